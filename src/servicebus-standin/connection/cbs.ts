// $cbs put-token: the SDK authorises every entity link by putting a SAS token for its
// audience first. A bad signature, unknown key or expired token is answered 401 with
// amqp:unauthorized-access, which the SDK surfaces as ServiceBusError UnauthorizedAccess.
import type { Connection, EventContext, Message } from 'rhea';
import type { StandinContext } from '../context.ts';
import { audiencePath, pathCovers, SasError, verifySas } from '../sas.ts';
import { rememberToken } from './auth.ts';
import { sendReply, type Reply } from './reply-links.ts';

export const CBS_ADDRESS = '$cbs';

export function putToken(ctx: StandinContext, connection: Connection, request: Message): Reply {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (props.operation !== 'put-token') {
    return {
      status: 400,
      description: `Unsupported $cbs operation '${String(props.operation)}'; only put-token is supported.`,
      errorCondition: 'amqp:not-implemented',
    };
  }
  const audience = props.name;
  if (typeof audience !== 'string' || typeof request.body !== 'string') {
    return { status: 400, description: 'put-token needs a string "name" (audience) and a string token body.', errorCondition: 'amqp:invalid-field' };
  }
  if (props.type !== 'servicebus.windows.net:sastoken') {
    return {
      status: 401,
      description: `Token type '${String(props.type)}' is not supported by the stand-in; use a SAS connection string.`,
      errorCondition: 'amqp:unauthorized-access',
    };
  }
  try {
    const token = verifySas(request.body, ctx.keys, Date.now());
    if (!pathCovers(audiencePath(token.resource), audiencePath(audience))) {
      return {
        status: 401,
        description: `InvalidAudience: the token was signed for '${token.resource}', not for '${audience}'.`,
        errorCondition: 'amqp:unauthorized-access',
      };
    }
    rememberToken(connection, audience, token);
    return { status: 202, description: 'Accepted' };
  } catch (error) {
    if (!(error instanceof SasError)) throw error;
    ctx.logger.info({ audience, err: error }, 'Refused CBS token');
    return { status: 401, description: `InvalidSignature: ${error.message}`, errorCondition: 'amqp:unauthorized-access' };
  }
}

export function onCbsRequest(ctx: StandinContext, event: EventContext): void {
  const { message, delivery, connection } = event;
  delivery?.accept();
  if (message === undefined) return;
  sendReply(connection, message, putToken(ctx, connection, message), 'cbs');
}
