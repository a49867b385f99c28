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

{{/*
Every pod of this release (services, migration Job, dev NATS): the peers the dev NATS accepts.
*/}}
{{- define "latchkey.releaseSelector" -}}
app.kubernetes.io/name: {{ include "latchkey.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
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
Services the image knows how to start (apps/<name>/dist/main.js); all but the gateway own a
PostgreSQL schema.
*/}}
{{- define "latchkey.knownServices" -}}
gateway identity token delegation device-registry policy
{{- end }}

{{/*
The NATS URL the services use: the dev NATS of this release when it is on, else nats.url.
*/}}
{{- define "latchkey.natsUrl" -}}
{{- if .Values.natsDev.enabled }}
{{- printf "nats://%s-nats:4222" (include "latchkey.fullname" .) }}
{{- else }}
{{- .Values.nats.url }}
{{- end }}
{{- end }}

{{/*
The database Secret of a service: database.* unless services.<name>.database overrides it.
Call with (dict "root" $ "override" <map or nil>); returns YAML { existingSecret, key }.
*/}}
{{- define "latchkey.databaseSecret" -}}
{{- $db := dict "existingSecret" .root.Values.database.existingSecret "key" .root.Values.database.key }}
{{- $db = mergeOverwrite $db (.override | default dict) }}
{{- toYaml $db }}
{{- end }}

{{/*
Autoscaling settings of a service: the global `autoscaling` with services.<name>.autoscaling on
top; minReplicas defaults to the service's replicas. Call with (dict "root" $ "svc" $svc).
*/}}
{{- define "latchkey.autoscaling" -}}
{{- $as := mergeOverwrite (deepCopy .root.Values.autoscaling) (.svc.autoscaling | default dict) }}
{{- if not (hasKey $as "minReplicas") }}
{{- $_ := set $as "minReplicas" .svc.replicas }}
{{- end }}
{{- toYaml $as }}
{{- end }}

{{/*
Fail early on settings the schema cannot express.
*/}}
{{- define "latchkey.validate" -}}
{{- $_ := required "publicUrl is required (e.g. https://auth.example.com)" .Values.publicUrl }}
{{- if hasSuffix "/" .Values.publicUrl }}
{{- fail "publicUrl must not end with a slash" }}
{{- end }}
{{- $_ := required "database.existingSecret is required: the name of a Secret holding the PostgreSQL URL" .Values.database.existingSecret }}
{{- $_ := required "kek.existingSecret is required: the name of a Secret holding the key-encryption key" .Values.kek.existingSecret }}
{{- $known := splitList " " (include "latchkey.knownServices" .) }}
{{- range $name, $svc := .Values.services }}
{{- if not (has $name $known) }}
{{- fail (printf "services.%s: unknown service (known: %s)" $name (join ", " $known)) }}
{{- end }}
{{- end }}
{{- $gw := .Values.services.gateway }}
{{- if $gw.enabled }}
{{- $as := include "latchkey.autoscaling" (dict "root" . "svc" $gw) | fromYaml }}
{{- if and (not .Values.gatewayKey.existingSecret) (or (gt (int $gw.replicas) 1) (and $as.enabled (gt (int $as.maxReplicas) 1))) }}
{{- fail "gatewayKey.existingSecret is required when the gateway can run more than one replica: every replica must sign CSRF tokens and login cookies with the same key" }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.trustedProxies) }}
{{- fail "ingress.trustedProxies is required with ingress.enabled: the address range(s) of the ingress controller's pods, so that the gateway believes their X-Forwarded-For (otherwise every client shares the controller's address in the login and code throttles)" }}
{{- end }}
{{- if and .Values.nats.auth.credentialsSecret .Values.nats.auth.tokenSecret }}
{{- fail "nats.auth: give credentialsSecret or tokenSecret, not both" }}
{{- end }}
{{- $ids := list }}
{{- range $i, $t := (.Values.tenants | default list) }}
{{- if has $t.id $ids }}
{{- fail (printf "tenants[%d]: duplicate tenant id %s" $i $t.id) }}
{{- end }}
{{- $ids = append $ids $t.id }}
{{- end }}
{{- end }}

{{/*
Pod-level settings shared by every workload. Call with (dict "root" $ "serviceAccountName" "<name or empty>").
*/}}
{{- define "latchkey.podCommon" -}}
{{- $root := .root -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The service account of a service's pods. Call with (dict "root" $ "component" "<name>").
*/}}
{{- define "latchkey.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- printf "%s-%s" (include "latchkey.fullname" .root) .component }}
{{- else }}
{{- .root.Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
NATS credentials: env entries and the creds volume (mount and volume), from existing Secrets only.
*/}}
{{- define "latchkey.natsAuthEnv" -}}
{{- with .Values.nats.auth }}
{{- if .credentialsSecret }}
- name: NATS_CREDS_FILE
  value: /var/run/secrets/nats/nats.creds
{{- else if .tokenSecret }}
- name: NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .tokenSecret }}
      key: {{ .tokenKey }}
{{- end }}
{{- end }}
{{- end }}

{{- define "latchkey.natsAuthVolumeMount" -}}
{{- if .Values.nats.auth.credentialsSecret }}
- name: nats-credentials
  mountPath: /var/run/secrets/nats
  readOnly: true
{{- end }}
{{- end }}

{{- define "latchkey.natsAuthVolume" -}}
{{- with .Values.nats.auth }}
{{- if .credentialsSecret }}
- name: nats-credentials
  secret:
    secretName: {{ .credentialsSecret }}
    # 0440: readable by the pod's group (fsGroup), decimal so that no YAML reader can differ.
    defaultMode: 288
    items:
      - key: {{ .credentialsKey }}
        path: nats.creds
{{- end }}
{{- end }}
{{- end }}

{{/*
A NetworkPolicy egress rule: to the given peers (any destination when there are none) on the ports.
Call with (dict "to" <list> "ports" <list of {port, protocol}>).
*/}}
{{- define "latchkey.egressRule" -}}
- ports:
    {{- toYaml .ports | nindent 4 }}
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
Egress every Latchkey pod needs: DNS, and NATS (the services only; not the migration Job).
*/}}
{{- define "latchkey.egressDns" -}}
{{- include "latchkey.egressRule" (dict "to" .Values.networkPolicy.dns.to "ports" (list (dict "port" .Values.networkPolicy.dns.port "protocol" "UDP") (dict "port" .Values.networkPolicy.dns.port "protocol" "TCP"))) }}
{{- end }}

{{- define "latchkey.egressNats" -}}
{{- $to := .Values.networkPolicy.nats.to }}
{{- if .Values.natsDev.enabled }}
{{- $to = list (dict "podSelector" (dict "matchLabels" (include "latchkey.selectorLabels" (dict "root" . "component" "nats") | fromYaml))) }}
{{- end }}
{{- include "latchkey.egressRule" (dict "to" $to "ports" (list (dict "port" (int .Values.networkPolicy.nats.port) "protocol" "TCP"))) }}
{{- end }}

{{- define "latchkey.egressPostgres" -}}
{{- include "latchkey.egressRule" (dict "to" .Values.networkPolicy.postgres.to "ports" (list (dict "port" (int .Values.networkPolicy.postgres.port) "protocol" "TCP"))) }}
{{- end }}
