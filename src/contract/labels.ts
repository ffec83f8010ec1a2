// Labels, annotations and the field manager the operator stamps on every child. Selectors,
// cleanup (ownedSelector) and server-side apply all depend on these exact strings.

/** Server-side apply field manager, also the managed-by label value. */
export const FIELD_MANAGER = 'ocr-platform-operator';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  pipeline: 'ocrplatform.io/pipeline',
} as const;

/** Value of the name and part-of labels. */
export const APP_NAME = 'ocr-platform';

/** Pod template annotation holding the hash of referenced Secrets, so a Secret change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'ocrplatform.io/config-hash';

/**
 * Child annotation: a hash of the object the operator last applied (reconcile/unchanged.ts).
 * A child whose cached copy carries the hash of the desired object, and that nobody else
 * edited since, is not applied again: an unchanged world costs no API writes.
 */
export const DESIRED_HASH_ANNOTATION = 'ocrplatform.io/desired-hash';
