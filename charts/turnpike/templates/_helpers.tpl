{{/* The services, in start order. */}}
{{- define "turnpike.services" -}}
router connector billing analytics gateway
{{- end }}

{{- define "turnpike.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "turnpike.fullname" -}}
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

{{- define "turnpike.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "turnpike.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: turnpike
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "turnpike.selector" -}}
app.kubernetes.io/name: {{ include "turnpike.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "turnpike.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "turnpike.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "turnpike.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The chart-made Secret's name (admin token, master key, providers, database URL, SASL). */}}
{{- define "turnpike.secretName" -}}
{{ include "turnpike.fullname" . }}-secrets
{{- end }}

{{/*
Hooks run before the services exist or change (pre-install, pre-upgrade). With bundled Kafka or
Postgres they cannot run before the install (the StatefulSets do not exist yet): post-install.
*/}}
{{- define "turnpike.hookPhases" -}}
{{- if or .Values.kafka.bundled.enabled .Values.postgres.bundled.enabled -}}
post-install,pre-upgrade
{{- else -}}
pre-install,pre-upgrade
{{- end }}
{{- end }}

{{/* True (non-empty) when the topics job owns the topics. */}}
{{- define "turnpike.topicsJob" -}}
{{- if and .Values.kafka.topics.job (not .Values.kafka.bundled.enabled) }}true{{ end }}
{{- end }}

{{- define "turnpike.kafkaBrokers" -}}
{{- if .Values.kafka.bundled.enabled -}}
{{ include "turnpike.fullname" . }}-kafka:9092
{{- else -}}
{{ required "kafka.brokers (or kafka.bundled.enabled) is required" (join "," .Values.kafka.brokers) }}
{{- end }}
{{- end }}

{{/* The Kafka settings every process shares (services, the topics job). */}}
{{- define "turnpike.kafkaEnv" -}}
{{- $root := . -}}
{{- $v := .Values -}}
- name: KAFKA_BROKERS
  value: {{ include "turnpike.kafkaBrokers" $root | quote }}
- name: KAFKA_TOPICS_ENSURE
  value: {{ ternary "false" "true" (eq (include "turnpike.topicsJob" $root) "true") | quote }}
- name: KAFKA_TOPICS_REPLICATION_FACTOR
  value: {{ ternary 1 $v.kafka.topics.replicationFactor $v.kafka.bundled.enabled | quote }}
{{- with $v.kafka.topics.overrides }}
- name: KAFKA_TOPICS
  value: {{ toJson . | quote }}
{{- end }}
{{- if and $v.kafka.tls.enabled (not $v.kafka.bundled.enabled) }}
- name: KAFKA_SSL
  value: "true"
{{- if $v.kafka.tls.existingSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/turnpike/kafka-tls/{{ $v.kafka.tls.caKey }}
{{- if $v.kafka.tls.certKey }}
- name: KAFKA_SSL_CERT_FILE
  value: /etc/turnpike/kafka-tls/{{ $v.kafka.tls.certKey }}
- name: KAFKA_SSL_KEY_FILE
  value: /etc/turnpike/kafka-tls/{{ $v.kafka.tls.keyKey }}
{{- end }}
{{- end }}
{{- with $v.kafka.tls.serverName }}
- name: KAFKA_SSL_SERVERNAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.bundled.enabled) }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $v.kafka.sasl.username | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: /etc/turnpike/kafka-sasl/password
{{- end }}
{{- end }}

{{/*
The environment of one component (a service, its migrate step): the same settings as every
deployment (docs/configuration.md). Secrets come from Secrets (env refs or mounted files), never
from a ConfigMap. (dict "root" $ "component" "gateway")
*/}}
{{- define "turnpike.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $c := index $v .component -}}
{{- $secret := include "turnpike.secretName" $root -}}
- name: INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: NODE_ENV
  value: production
- name: HTTP_HOST
  value: "0.0.0.0"
- name: HTTP_PORT
  value: "8080"
- name: SHUTDOWN_GRACE_MS
  value: {{ mul $c.drainSeconds 1000 | quote }}
{{ include "turnpike.kafkaEnv" $root }}
{{- if $v.postgres.bundled.enabled }}
- name: TURNPIKE_PG_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: postgres-password
- name: DATABASE_URL
  value: postgres://turnpike:$(TURNPIKE_PG_PASSWORD)@{{ include "turnpike.fullname" $root }}-postgres:5432/turnpike
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.postgres.existingSecret | default $secret }}
      key: {{ ternary $v.postgres.urlKey "database-url" (ne $v.postgres.existingSecret "") }}
{{- end }}
{{- if $v.otel.enabled }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $v.otel.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.otel.samplerArg | quote }}
{{- if $v.otel.headersSecret.name }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ $v.otel.headersSecret.name }}
      key: {{ $v.otel.headersSecret.key }}
{{- end }}
{{- range $k, $val := $v.otel.extraEnv }}
- name: {{ $k }}
  value: {{ $val | toString | quote }}
{{- end }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
- name: OTEL_METRICS_EXPORTER
  value: none
- name: OTEL_LOGS_EXPORTER
  value: none
{{- if eq .component "gateway" }}
- name: GATEWAY_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.adminToken.existingSecret | default $secret }}
      key: {{ ternary $v.secrets.adminToken.key "admin-token" (ne $v.secrets.adminToken.existingSecret "") }}
- name: GATEWAY_REPLICAS
  value: {{ ternary $c.autoscaling.maxReplicas $c.replicas $c.autoscaling.enabled | quote }}
- name: GATEWAY_TRANSPORT
  value: {{ $c.transport | default "kafka" | quote }}
{{- if eq ($c.transport | default "kafka") "inprocess" }}
- name: GATEWAY_MASTER_KEY_FILE
  value: /etc/turnpike/master-key/master.key
{{- end }}
{{- end }}
{{- if eq .component "connector" }}
- name: CONNECTOR_MASTER_KEY_FILE
  value: /etc/turnpike/master-key/master.key
{{- if or $v.secrets.providers.value $v.secrets.providers.existingSecret }}
- name: CONNECTOR_PROVIDERS_FILE
  value: /etc/turnpike/providers/providers.json
{{- end }}
{{- end }}
{{- range $k, $val := merge (deepCopy $c.config) $v.config }}
- name: {{ $k }}
  value: {{ $val | toString | quote }}
{{- end }}
{{- end }}

{{/* Volumes of one component: /tmp, and the secret files it reads. */}}
{{- define "turnpike.volumes" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $secret := include "turnpike.secretName" $root -}}
- name: tmp
  emptyDir: {}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.existingSecret (not $v.kafka.bundled.enabled) }}
- name: kafka-tls
  secret:
    secretName: {{ $v.kafka.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.bundled.enabled) }}
- name: kafka-sasl
  secret:
    secretName: {{ $v.kafka.sasl.existingSecret | default $secret }}
    defaultMode: 0440
    items:
      - key: {{ ternary $v.kafka.sasl.passwordKey "kafka-sasl-password" (ne $v.kafka.sasl.existingSecret "") }}
        path: password
{{- end }}
{{- if or (eq .component "connector") (and (eq .component "gateway") (eq ($v.gateway.transport | default "kafka") "inprocess")) }}
- name: master-key
  secret:
    secretName: {{ $v.secrets.masterKey.existingSecret | default $secret }}
    defaultMode: 0440
    items:
      - key: {{ ternary $v.secrets.masterKey.key "master-key" (ne $v.secrets.masterKey.existingSecret "") }}
        path: master.key
{{- end }}
{{- if eq .component "connector" }}
{{- if or $v.secrets.providers.value $v.secrets.providers.existingSecret }}
- name: providers
  secret:
    secretName: {{ $v.secrets.providers.existingSecret | default $secret }}
    defaultMode: 0440
    items:
      - key: {{ ternary $v.secrets.providers.key "providers" (ne $v.secrets.providers.existingSecret "") }}
        path: providers.json
{{- end }}
{{- end }}
{{- end }}

{{- define "turnpike.volumeMounts" -}}
{{- $v := .root.Values -}}
- name: tmp
  mountPath: /tmp
{{- if and $v.kafka.tls.enabled $v.kafka.tls.existingSecret (not $v.kafka.bundled.enabled) }}
- name: kafka-tls
  mountPath: /etc/turnpike/kafka-tls
  readOnly: true
{{- end }}
{{- if and $v.kafka.sasl.mechanism (not $v.kafka.bundled.enabled) }}
- name: kafka-sasl
  mountPath: /etc/turnpike/kafka-sasl
  readOnly: true
{{- end }}
{{- if or (eq .component "connector") (and (eq .component "gateway") (eq ($v.gateway.transport | default "kafka") "inprocess")) }}
- name: master-key
  mountPath: /etc/turnpike/master-key
  readOnly: true
{{- end }}
{{- if eq .component "connector" }}
{{- if or $v.secrets.providers.value $v.secrets.providers.existingSecret }}
- name: providers
  mountPath: /etc/turnpike/providers
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{/*
A secret value: the one given, else the one already in the cluster (upgrades keep it), else a
new random one. (dict "root" $ "key" "admin-token" "given" "..." "make" "adm-<random>")
*/}}
{{- define "turnpike.secretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "turnpike.secretName" .root) -}}
{{- if .given -}}
{{ .given | b64enc }}
{{- else if and $existing (hasKey $existing.data .key) -}}
{{ index $existing.data .key }}
{{- else -}}
{{ .make | b64enc }}
{{- end }}
{{- end }}
