// One active recovery runner per pipeline: whoever holds the Blob lease on
// `leases/recovery-<partition>` runs the passes. The lease lasts `leaseSeconds` (15 to 60,
// Blob Storage's range) and is renewed each pass; a runner that dies stops renewing, the lease
// expires, and another replica's next acquire succeeds. Release on shutdown hands over at once.
import { randomUUID } from 'node:crypto';
import { RestError, type BlobLeaseClient, type ContainerClient } from '@azure/storage-blob';

/** The blob whose lease elects the runner; under `leases/`, which retention never touches. */
export function leaseBlobPath(partition: string): string {
  return `leases/recovery-${partition}`;
}

export class RecoveryLease {
  private readonly lease: BlobLeaseClient;
  private readonly blob: ReturnType<ContainerClient['getBlockBlobClient']>;
  private readonly leaseSeconds: number;
  private held = false;

  constructor(container: ContainerClient, partition: string, leaseSeconds: number) {
    this.blob = container.getBlockBlobClient(leaseBlobPath(partition));
    // A fixed id per runner: renew and release need it, and a restarted process is a new runner.
    this.lease = this.blob.getBlobLeaseClient(randomUUID());
    this.leaseSeconds = leaseSeconds;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Holds the lease after this call, or learns that another runner does: renews a held lease, otherwise
   * tries to acquire it (creating the blob on first use). False when another runner holds it.
   */
  async hold(): Promise<boolean> {
    if (this.held) {
      try {
        await this.lease.renewLease();
        return true;
      } catch (error) {
        // Expired and taken by another runner (409), or the blob is gone (404): acquire again below.
        if (!(error instanceof RestError) || (error.statusCode !== 409 && error.statusCode !== 404)) throw error;
        this.held = false;
      }
    }
    await this.ensureBlob();
    try {
      await this.lease.acquireLease(this.leaseSeconds);
      this.held = true;
    } catch (error) {
      if (!(error instanceof RestError) || error.statusCode !== 409) throw error;
      this.held = false;
    }
    return this.held;
  }

  /** Gives the lease up so another replica takes over at its next pass; a lease already lost is fine. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.lease.releaseLease().catch(() => undefined);
  }

  private async ensureBlob(): Promise<void> {
    try {
      await this.blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (error) {
      // 409/412: it exists (and may be leased): fine.
      if (!(error instanceof RestError) || (error.statusCode !== 409 && error.statusCode !== 412)) throw error;
    }
  }
}
