{{/* Chart name, overridable. */}}
{{- define "aigateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release alone when it already contains the chart name. */}}
{{- define "aigateway.fullname" -}}
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

{{- define "aigateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aigateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aigateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "aigateway.labels" -}}
helm.sh/chart: {{ include "aigateway.chart" . }}
{{ include "aigateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "aigateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aigateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "aigateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret and key that hold the Redis connection string, empty when Redis is not configured. */}}
{{- define "aigateway.redisSecretName" -}}
{{- if .Values.redis.existingSecret }}
{{- .Values.redis.existingSecret }}
{{- else if .Values.redis.connectionString }}
{{- printf "%s-redis" (include "aigateway.fullname" .) }}
{{- end }}
{{- end }}

{{- define "aigateway.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}
{{- .Values.redis.existingSecretKey }}
{{- else }}
{{- "connection-string" }}
{{- end }}
{{- end }}

{{/* The Secret and key that hold the PostgreSQL connection string, empty when PostgreSQL is not configured. */}}
{{- define "aigateway.postgresSecretName" -}}
{{- if .Values.postgres.existingSecret }}
{{- .Values.postgres.existingSecret }}
{{- else if .Values.postgres.connectionString }}
{{- printf "%s-postgres" (include "aigateway.fullname" .) }}
{{- end }}
{{- end }}

{{- define "aigateway.postgresSecretKey" -}}
{{- if .Values.postgres.existingSecret }}
{{- .Values.postgres.existingSecretKey }}
{{- else }}
{{- "connection-string" }}
{{- end }}
{{- end }}

{{/* The gateway config as JSON, as the gateway reads it from /app/config/gateway.json. */}}
{{- define "aigateway.configJson" -}}
{{- toPrettyJson .Values.config.gateway }}
{{- end }}
