// Which pipelines refer to which Secrets, so a Secret event re-queues exactly the
// pipelines that read it (for example the one waiting on a missing Secret).
export class SecretIndex {
  #byPipeline = new Map<string, Set<string>>(); // "ns/pipeline" -> secret names
  #bySecret = new Map<string, Set<string>>(); // "ns/secret" -> pipeline keys

  set(pipelineKey: string, secretNames: string[]): void {
    this.delete(pipelineKey);
    const namespace = pipelineKey.split('/')[0] ?? '';
    const names = new Set(secretNames);
    this.#byPipeline.set(pipelineKey, names);
    for (const n of names) {
      const k = `${namespace}/${n}`;
      const set = this.#bySecret.get(k) ?? new Set<string>();
      set.add(pipelineKey);
      this.#bySecret.set(k, set);
    }
  }

  delete(pipelineKey: string): void {
    const namespace = pipelineKey.split('/')[0] ?? '';
    for (const n of this.#byPipeline.get(pipelineKey) ?? []) {
      const k = `${namespace}/${n}`;
      const set = this.#bySecret.get(k);
      set?.delete(pipelineKey);
      if (set?.size === 0) this.#bySecret.delete(k);
    }
    this.#byPipeline.delete(pipelineKey);
  }

  /** Whether any pipeline refers to the Secret: O(1), no array (SecretStore asks it for every copy it holds). */
  referenced(namespace: string, secretName: string): boolean {
    return this.#bySecret.has(`${namespace}/${secretName}`);
  }

  pipelinesFor(namespace: string, secretName: string): string[] {
    return [...(this.#bySecret.get(`${namespace}/${secretName}`) ?? [])];
  }
}
