// @azure/service-bus 7.9.x sends ATOM management requests to https://<Endpoint host:port>
// whatever the connection string says (UseDevelopmentEmulator is ignored there; 7.10
// uses http for the emulator). This pipeline policy turns them into plain http, which
// is what the stand-in (and Microsoft's emulator) serve:
//   admin.pipeline.addPolicy(emulatorHttpPolicy());
// Use it only for development-emulator connection strings.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

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
