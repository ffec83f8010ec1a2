// Tests use the same free-port and polling helpers as the platform.
export { freePort, waitFor, type WaitOptions } from '../../src/shared/net.ts';
