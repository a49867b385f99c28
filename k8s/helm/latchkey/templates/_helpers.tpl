{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "latchkey.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the release name already
contains it. Service-specific names append "-<service>", so keep room for the longest one.
*/}}
{{- define "latchkey.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "latchkey.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Call with (dict "root" $ "component" "<name>").
*/}}
{{- define "latchkey.labels" -}}
helm.sh/chart: {{ include "latchkey.chart" .root }}
{{ include "latchkey.selectorLabels" . }}
app.kubernetes.io/part-of: latchkey
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/*
Selector labels. Call with (dict "root" $ "component" "<name>").
*/}}
{{- define "latchkey.selectorLabels" -}}
app.kubernetes.io/name: {{ include "latchkey.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "latchkey.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "latchkey.tenantsConfigMapName" -}}
{{- printf "%s-tenants" (include "latchkey.fullname" .) }}
{{- end }}

{{/*
The tenants file exactly as the services read it: { tenants: [...] }.
*/}}
{{- define "latchkey.tenantsFile" -}}
{{- toYaml (dict "tenants" (.Values.tenants | default list)) }}
{{- end }}

{{/*
Services the image knows how to start (apps/<name>/dist/main.js).
*/}}
{{- define "latchkey.knownServices" -}}
gateway identity token delegation device-registry policy
{{- end }}

{{/*
Fail early on missing required settings.
*/}}
{{- define "latchkey.validate" -}}
{{- $_ := required "publicUrl is required (e.g. https://auth.example.com)" .Values.publicUrl }}
{{- if hasSuffix "/" .Values.publicUrl }}
{{- fail "publicUrl must not end with a slash" }}
{{- end }}
{{- $_ := required "database.existingSecret is required: the name of a Secret holding the PostgreSQL URL" .Values.database.existingSecret }}
{{- $_ := required "kek.existingSecret is required: the name of a Secret holding the key-encryption key" .Values.kek.existingSecret }}
{{- $known := splitList " " (include "latchkey.knownServices" .) }}
{{- range $name, $_ := .Values.services }}
{{- if not (has $name $known) }}
{{- fail (printf "services.%s: unknown service (known: %s)" $name (join ", " $known)) }}
{{- end }}
{{- end }}
{{- range $i, $t := (.Values.tenants | default list) }}
{{- if not (kindIs "map" $t) }}
{{- fail (printf "tenants[%d] must be a map" $i) }}
{{- end }}
{{- if not (regexMatch "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$" (toString (index $t "id" | default ""))) }}
{{- fail (printf "tenants[%d].id must be a lowercase slug (a-z, 0-9, -)" $i) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Pod-level settings shared by every workload.
*/}}
{{- define "latchkey.podCommon" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
