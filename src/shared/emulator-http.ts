// @azure/service-bus 7.9.x sends ATOM management requests to https://<Endpoint host:port>
// whatever the connection string says (UseDevelopmentEmulator is ignored there; 7.10
// uses http for the emulator). Our Service Bus stand-in and Microsoft's emulator serve
// ATOM over plain http, so for development-emulator connection strings only, a pipeline
// policy flips the scheme:
//   if (isDevelopmentEmulator(cs)) admin.pipeline.addPolicy(emulatorHttpPolicy());
// It lives in shared/ so the operator's queue reader and the stand-in's test helpers use
// one policy without the operator importing the stand-in.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/** Whether a Service Bus connection string says UseDevelopmentEmulator=true (case-insensitive). */
export function isDevelopmentEmulator(connectionString: string): boolean {
  return /(^|;)\s*UseDevelopmentEmulator\s*=\s*true/i.test(connectionString);
}

export function emulatorHttpPolicy(): PipelinePolicy {
  return {
    name: 'serviceBusEmulatorHttp',
    sendRequest(request, next) {
      const url = new URL(request.url);
      url.protocol = 'http:';
      request.url = url.toString();
      // core-rest-pipeline refuses http: URLs unless this is set.
      request.allowInsecureConnection = true;
      return next(request);
    },
  };
}
