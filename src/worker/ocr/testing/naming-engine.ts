// Test support for the worker's engine routing (engines.test.ts, language-pools.test.ts): an engine of our own
// interface whose text is its name, so a test sees which engine or language set read the image.
import type { OcrEngine, Recognition } from '../engine.ts';
import type { PreparedImage } from '../preprocess.ts';

/** An engine that answers its own name as the text and records its name in `closed` when closed. */
export function namingEngine(name: string, closed: string[]): OcrEngine {
  return {
    recognize: async (): Promise<Recognition> => ({ text: name, lines: [], meanConfidence: 90 }),
    close: async () => {
      closed.push(name);
    },
  };
}

/** An image the naming engine never looks at. */
export const ANY_IMAGE = {} as PreparedImage;
