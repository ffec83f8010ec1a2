// Request/response links ($cbs, <entity>/$management): the client names its reply link
// in `reply_to`. CBS clients put the link NAME there, management clients the link's
// TARGET address, so both are registered.
import type { Connection, Message, Sender } from 'rhea';

const linksByConnection = new WeakMap<Connection, Map<string, Sender>>();

export function registerReplyLink(sender: Sender): void {
  let links = linksByConnection.get(sender.connection);
  if (links === undefined) {
    links = new Map();
    linksByConnection.set(sender.connection, links);
  }
  links.set(sender.name, sender);
  const target = (sender.target as { address?: string } | undefined)?.address;
  if (target) links.set(target, sender);
}

export function forgetReplyLink(sender: Sender): void {
  const links = linksByConnection.get(sender.connection);
  if (links === undefined) return;
  for (const [key, link] of links) if (link === sender) links.delete(key);
}

export interface Reply {
  status: number;
  description: string;
  errorCondition?: string | undefined;
  body?: unknown;
}

/**
 * Sends a reply correlated to the request. CBS reads kebab-case keys ("status-code"),
 * management reads camelCase (`statusCode`, which peek checks for 204).
 */
export function sendReply(connection: Connection, request: Message, reply: Reply, style: 'cbs' | 'management'): boolean {
  const replyTo = request.reply_to;
  const link = replyTo === undefined ? undefined : linksByConnection.get(connection)?.get(replyTo);
  if (link === undefined || !link.is_open()) return false;
  const applicationProperties: Record<string, unknown> =
    style === 'cbs'
      ? { 'status-code': reply.status, 'status-description': reply.description }
      : { statusCode: reply.status, statusDescription: reply.description };
  if (reply.errorCondition !== undefined) {
    applicationProperties[style === 'cbs' ? 'error-condition' : 'errorCondition'] = reply.errorCondition;
  }
  const message: Message = {
    correlation_id: request.message_id,
    application_properties: applicationProperties,
    body: reply.body,
  };
  link.send(message);
  return true;
}
