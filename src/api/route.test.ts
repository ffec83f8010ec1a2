import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fastify, { type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bodyConstraint, isFormBody, registerRoute, takesForms, type RouteHooks, type RouteSpec } from './route.ts';

void describe('form bodies', () => {
  const cases: [string | undefined, boolean][] = [
    ['multipart/form-data; boundary=x', true],
    ['Multipart/Form-Data;boundary=x', true],
    ['multipart/form-data', true],
    ['multipart/form-data ; boundary=x', true],
    ['multipart/form-datax; boundary=x', false],
    ['multipart/mixed; boundary=x', false],
    ['application/json', false],
    ['image/png', false],
    ['', false],
    [undefined, false],
  ];
  for (const [type, form] of cases) {
    void it(`${form ? 'takes' : 'does not take'} ${JSON.stringify(type)} for a form`, () => {
      assert.equal(isFormBody({ 'content-type': type }), form);
    });
  }

  void it('routes a JSON request to the unconstrained registration and a form to the form scope, whose hooks only forms run', async () => {
    const app = fastify();
    app.addConstraintStrategy(bodyConstraint);
    app.addContentTypeParser('multipart/form-data', (_request, payload, done) => {
      payload.resume();
      payload.once('end', () => done(null, 'a form'));
    });
    const seen: string[] = [];
    const responded: string[] = [];
    const hooks: RouteHooks = {
      authenticate: () => undefined,
      responded: (route, request) => responded.push(`${route} ${request.headers['content-type']}`),
    };
    const spec: RouteSpec = {
      method: 'POST',
      url: '/things',
      operationId: 'createThing',
      summary: 'A thing',
      tags: [],
      auth: false,
      body: z.object({ name: z.string() }).strict(),
      content: { 'multipart/form-data': { schema: z.object({ file: z.string() }) } },
      responses: { 200: { description: 'ok' } },
      errors: [],
      handler: async (request: FastifyRequest) => ({ form: isFormBody(request.headers), body: request.body }),
    };
    assert.equal(takesForms(spec), true);
    registerRoute(app, spec, hooks, { jsonOnly: true });
    await app.register(async (scope) => {
      scope.addHook('onRequest', (_request, _reply, done) => {
        seen.push('form scope hook');
        done();
      });
      registerRoute(scope, spec, hooks, { constraints: { body: 'form' } });
    });
    const json = await app.inject({ method: 'POST', url: '/things', payload: { name: 'a' } });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json(), { form: false, body: { name: 'a' } });
    assert.ok(json.headers['x-request-id'], 'the route sets x-request-id');
    assert.deepEqual(seen, []);
    const form = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--\r\n' });
    assert.equal(form.statusCode, 200);
    assert.deepEqual(form.json(), { form: true, body: 'a form' });
    assert.deepEqual(seen, ['form scope hook']);
    assert.deepEqual(responded, ['/things application/json', '/things multipart/form-data; boundary=x']);
    await app.close();
  });
});
