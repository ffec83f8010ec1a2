// The emulator HTTP policy is written once, in src/shared/emulator-http.ts (the operator's
// queue reader uses it too); the stand-in re-exports it for its callers:
//   admin.pipeline.addPolicy(emulatorHttpPolicy());
export { emulatorHttpPolicy } from '../shared/emulator-http.ts';
