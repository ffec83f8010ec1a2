{{/*
Chart name, overridable with nameOverride. Truncated to 63 characters because some
Kubernetes name fields are limited to that by the DNS label standard.
*/}}
{{- define "ocr-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the resources: the release name plus the chart name, unless the release
name already contains it (`helm install ocr-platform ...` gives `ocr-platform`, not
`ocr-platform-ocr-platform`). Truncated to 63 characters (DNS label limit).
*/}}
{{- define "ocr-platform.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, as in the helm.sh/chart label. */}}
{{- define "ocr-platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator pods. They never change after an install (a
Deployment's selector is immutable), so nothing version-dependent goes in here. */}}
{{- define "ocr-platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocr-platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Standard labels on every resource (Kubernetes recommended labels). */}}
{{- define "ocr-platform.labels" -}}
helm.sh/chart: {{ include "ocr-platform.chart" . }}
{{ include "ocr-platform.selectorLabels" . }}
app.kubernetes.io/version: {{ include "ocr-platform.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: ocr-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "ocr-platform.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ocr-platform.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image tag: image.tag, or the chart's appVersion. */}}
{{- define "ocr-platform.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* Image reference: repository:tag, or repository@digest when a digest pins it. */}}
{{- define "ocr-platform.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "ocr-platform.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Name of the Lease the operator replicas elect a leader on; the operator uses the same
name (src/operator), so it is fixed rather than derived from the release. */}}
{{- define "ocr-platform.leaseName" -}}
ocr-platform-operator
{{- end }}

{{/*
The permissions the operator needs in a watched namespace (or cluster-wide), exactly
the verbs and resources it uses. No wildcards: a test fails on any.
*/}}
{{- define "ocr-platform.operatorRules" -}}
# Exactly the calls the operator makes (src/operator/kube.ts is its only I/O edge).
# Pipelines: listed and watched by an informer; only their status is written (a merge patch).
- apiGroups: [ocrplatform.io]
  resources: [ocrpipelines]
  verbs: [list, watch]
- apiGroups: [ocrplatform.io]
  resources: [ocrpipelines/status]
  verbs: [patch]
# Children carry an ownerReference with blockOwnerDeletion: true, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only to whoever may update
# the owner's finalizers. The operator never sets finalizers itself.
- apiGroups: [ocrplatform.io]
  resources: [ocrpipelines/finalizers]
  verbs: [update]
# Children of a pipeline: informers (list, watch), server-side apply (patch, and create
# for a child that does not exist yet), delete when no longer wanted.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list, watch, create, patch, delete]
# Always watched (MANAGED_KINDS), created only for pipelines with spec.networkPolicy.enabled.
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, watch, create, patch, delete]
{{- if .Values.keda.enabled }}
# KEDA ScaledObjects: watched like the children above when the operator has a Prometheus
# URL (an optional kind: without KEDA or this grant the operator looks again every minute),
# applied, and deleted when a pipeline no longer uses KEDA.
- apiGroups: [keda.sh]
  resources: [scaledobjects]
  verbs: [list, watch, create, patch, delete]
{{- end }}
# Pods of pipelines (label-selected, trimmed in memory to their status): why a pod does not
# run (crash loop, unschedulable, image pull) becomes the pipeline's Degraded condition.
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
# Secrets: a metadata-only watch (names and resourceVersions, to notice a referenced Secret
# appear, change or vanish), a GET by name of the Secrets a pipeline references, and
# create for the API keys Secret <pipeline>-api-keys it generates once when a pipeline
# names none (never update or delete: the pipeline's ownerReference cleans it up).
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create]
# Events a user sees with `kubectl describe ocrpipeline` (core/v1 Events, created only).
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* Namespaces the operator watches, as the --namespaces flag value. */}}
{{- define "ocr-platform.watchNamespaces" -}}
{{- join "," (uniq .Values.watchNamespaces) }}
{{- end }}
