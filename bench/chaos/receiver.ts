// The webhook receiver of a chaos run: a loopback HTTP server that records every request by its
// delivery id (x-ocr-delivery), checks the signature, and answers 500 while `failing` is set, so
// the run can show that deliveries survive a receiver outage. A delivery counts only when it
// was answered 2xx; a 2xx delivery whose id was delivered before is a duplicate.
import { createServer, type Server } from 'node:http';
import { DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhook } from '../../src/jobs/index.ts';

export interface Delivery {
  deliveryId: string;
  jobId: string | undefined;
  event: string | undefined;
  status: string | undefined;
  answered: number;
  signatureValid: boolean;
  at: number;
}

export class WebhookReceiver {
  failing = false;
  readonly deliveries: Delivery[] = [];
  private readonly server: Server;
  private readonly secret: string;
  url = '';

  constructor(secret: string) {
    this.secret = secret;
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answered = this.failing ? 500 : 204;
        this.deliveries.push({
          ...parseEvent(body),
          deliveryId: headerOf(request.headers[DELIVERY_HEADER]),
          answered,
          signatureValid: this.verify(request.headers, body),
          at: Date.now(),
        });
        response.writeHead(answered).end();
      });
    });
  }

  private verify(headers: Record<string, string | string[] | undefined>, body: string): boolean {
    return verifyWebhook(this.secret, headerOf(headers[SIGNATURE_HEADER]), body);
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  }

  /** Job ids with at least one delivery answered 2xx. */
  deliveredJobs(): Set<string> {
    return new Set(this.deliveries.filter((d) => d.answered < 300 && d.jobId !== undefined).map((d) => d.jobId!));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function headerOf(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

function parseEvent(body: string): Pick<Delivery, 'jobId' | 'event' | 'status'> {
  try {
    const event = JSON.parse(body) as { jobId?: unknown; event?: unknown; status?: unknown };
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return { jobId: text(event.jobId), event: text(event.event), status: text(event.status) };
  } catch {
    return { jobId: undefined, event: undefined, status: undefined };
  }
}
