// The settings both the API and the worker pod read: which pipeline they serve, its
// languages, and how they reach Service Bus and Storage. The clients live in
// servicebus-connection.ts and storage-connection.ts (split so the operator can parse
// Service Bus connection strings without loading the Blob and Table SDKs).
import { CONNECTION_DEFAULTS, ENV } from '../contract/container.ts';
import { ConfigError, parseSettings, type Env, type Setting, type Settings } from '../shared/config.ts';
import { LANGUAGE_PATTERN } from './schema.ts';
import { QUEUE_SETTINGS, queueSettings, type QueueSettings } from './servicebus-connection.ts';
import { STORAGE_SETTINGS, storageSettings, type StorageSettings } from './storage-connection.ts';

export * from './servicebus-connection.ts';
export * from './storage-connection.ts';

/** Rows of the API's and the worker's settings tables that both read the same way. */
export const POD_SETTINGS = [
  {
    name: 'pipeline',
    env: ENV.pipeline,
    type: 'string',
    default: CONNECTION_DEFAULTS.pipeline,
    help: 'Pipeline name: with the namespace, the partition of job records (<namespace>.<pipeline>); a label on every metric.',
  },
  {
    name: 'namespace',
    env: ENV.namespace,
    type: 'string',
    help: 'Kubernetes namespace of the pipeline (a DNS label), in logs and in the partition of job records and of the result cache; unset: the pipeline name alone.',
  },
  ...QUEUE_SETTINGS,
  ...STORAGE_SETTINGS,
] as const satisfies readonly Setting[];

export function connectionSettings(values: Settings<typeof POD_SETTINGS>): { storage: StorageSettings; queue: QueueSettings; pipeline: string } {
  return { storage: storageSettings(values), queue: queueSettings(values), pipeline: values.pipeline };
}

/** Reads storage and queue settings from the environment the operator gives API and worker pods. */
export function settingsFromEnv(env: Env): { storage: StorageSettings; queue: QueueSettings; pipeline: string } {
  return connectionSettings(parseSettings(POD_SETTINGS, env));
}

/** The OCR_LANGUAGES row; `help` differs because the API refuses and the worker loads them. */
export function languagesSetting(help: string) {
  return { name: 'languages', env: ENV.languages, type: 'list', default: CONNECTION_DEFAULTS.languages, help } as const;
}

/** Refuses an empty list and anything that is not a tesseract language code. */
export function checkLanguages(languages: readonly string[]): void {
  if (languages.length === 0) throw new ConfigError(`${ENV.languages} must list at least one language, e.g. "eng" or "eng,deu"`);
  for (const language of languages) {
    if (!LANGUAGE_PATTERN.test(language))
      throw new ConfigError(`${ENV.languages} has "${language}", which is not a tesseract language code such as eng, deu or chi_sim`);
  }
}
