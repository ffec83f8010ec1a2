// DELETE /v1/jobs/{id}: the caller's finished job and everything stored for it (src/api/jobs/delete.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { principalOf } from '../auth.ts';
import { deleteJob, type DeleteJobDeps } from '../jobs/delete.ts';
import type { RouteSpec } from '../route.ts';
import { JobParams } from '../schemas.ts';

export function deleteJobRoute(deps: DeleteJobDeps): RouteSpec {
  return {
    method: 'DELETE',
    url: '/v1/jobs/:id',
    operationId: 'deleteJob',
    summary: 'Delete a job',
    description:
      'Deletes a finished (succeeded, failed or expired) job, or an awaiting_upload record an older API wrote: its upload, its checked input, its result, ' +
      'its result-cache entry, its pending webhook and its record. Repeating a DELETE that failed half-way finishes it; after a 204 the job ' +
      'answers 404, as does a job not yet submitted (it has no record). A queued or processing job is refused with 409 JOB_IN_PROGRESS. Only the key that created the job (or an admin key) ' +
      'can delete it: for any other key it does not exist (404 JOB_NOT_FOUND). A later job answered from this job through the result cache ' +
      'keeps its record but loses its result text.',
    tags: ['jobs'],
    auth: true,
    params: JobParams,
    responses: { 204: { description: 'Deleted; nothing of the job is stored any more.' } },
    errors: ['API_KEY_MISSING', 'API_KEY_INVALID', 'RATE_LIMITED', 'INVALID_REQUEST', 'JOB_NOT_FOUND', 'JOB_IN_PROGRESS', 'STORAGE_UNAVAILABLE'],
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as z.infer<typeof JobParams>;
      await deleteJob(deps, id, principalOf(request.caller));
      return reply.code(204).send();
    },
  };
}
