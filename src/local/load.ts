// Placeholder until the load view lands.
import type { Platform } from './platform.ts';

export async function runLoad(_platform: Platform, _n: number, _options: { stopSignal: Promise<void>; waitForScaleIn: boolean }): Promise<void> {
  throw new Error('load is not implemented yet');
}
