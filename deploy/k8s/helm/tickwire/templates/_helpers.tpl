{{/*
Names, labels and the pod template every tickwire workload shares. Workload templates pass a dict
("root" the chart's context plus the pod's parts) to "tickwire.pod".
*/}}

{{- define "tickwire.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix of every object name; short enough for "-ingest-<feed>-replica" after
     it with a feed name of up to 18 characters (longer ones are refused, naming the remedy). */}}
{{- define "tickwire.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 36 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 36 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 36 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* dict root component -> "<fullname>-<component>" */}}
{{- define "tickwire.componentName" -}}
{{- printf "%s-%s" (include "tickwire.fullname" .root) .component }}
{{- end }}

{{- define "tickwire.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tickwire.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* dict root component: labels of every object; part-of is what the network policies select. */}}
{{- define "tickwire.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tickwire.selectorLabels" . }}
app.kubernetes.io/part-of: tickwire
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* dict root image -> repository:tag, the tag defaulting to the chart's appVersion */}}
{{- define "tickwire.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* The Kafka services' health port: TICKWIRE_HEALTH_PORT, set to this in their ConfigMaps. */}}
{{- define "tickwire.healthPort" -}}8080{{- end }}
{{/* The API's port: TICKWIRE_API_PORT, set to this in its ConfigMap. */}}
{{- define "tickwire.apiPort" -}}8000{{- end }}

{{/* Above the service's own stop grace, with room for the interpreter to exit. */}}
{{- define "tickwire.terminationGrace" -}}
{{- add (int (ceil .stopGraceSeconds)) 10 }}
{{- end }}

{{/* Env var carrying one secret librdkafka option into KAFKA_CLIENT_CONFIG. */}}
{{- define "tickwire.kafkaSecretVar" -}}
{{- printf "KAFKA_SECRET_%s" (. | upper | replace "." "_" | replace "-" "_") }}
{{- end }}

{{/*
KAFKA_CLIENT_CONFIG: kafka.clientConfig as JSON, each secret option spliced in by Kubernetes'
$(VAR) expansion from an env var defined before it (the secret never passes through Helm).
*/}}
{{- define "tickwire.kafkaEnv" -}}
{{- $kafka := .Values.kafka }}
{{- $config := deepCopy $kafka.clientConfig }}
{{- range $option, $key := $kafka.secretOptions }}
{{- $var := include "tickwire.kafkaSecretVar" $option }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.existingSecret is required with kafka.secretOptions" $kafka.existingSecret }}
      key: {{ $key }}
{{- $_ := set $config $option (printf "$(%s)" $var) }}
{{- end }}
{{- if $config }}
- name: KAFKA_CLIENT_CONFIG
  value: {{ toJson $config | quote }}
{{- end }}
{{- end }}

{{- define "tickwire.kafkaVolumeMounts" -}}
{{- if .Values.kafka.mountSecret }}
- name: kafka-secret
  mountPath: /etc/tickwire/kafka
  readOnly: true
{{- end }}
{{- end }}

{{- define "tickwire.kafkaVolumes" -}}
{{- if .Values.kafka.mountSecret }}
- name: kafka-secret
  secret:
    secretName: {{ required "kafka.existingSecret is required with kafka.mountSecret" .Values.kafka.existingSecret }}
{{- end }}
{{- end }}

{{/* A service block's secretEnv: NAME -> {name, key}. */}}
{{- define "tickwire.secretEnv" -}}
{{- range $name, $ref := . }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}

{{/* ConfigMap data: the block's env over the chart's defaults (the schema keeps the settings
     the chart derives from other values out of env). */}}
{{- define "tickwire.configData" -}}
{{- $data := merge (dict) .env .own }}
{{- range $name := keys $data | sortAlpha }}
{{ $name }}: {{ get $data $name | toString | quote }}
{{- end }}
{{- end }}

{{/* A YAML list assembled from fragments, without the blank lines between them. */}}
{{- define "tickwire.lines" -}}
{{- regexReplaceAll "(?m)^[ \t]*\n" (. | default "") "" | trim }}
{{- end }}

{{- define "tickwire.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "tickwire.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The pod template of a workload. Keys of the dict:
  root, component, block (the service's values), command (list), configMaps (names for envFrom),
  env (rendered env list, may be empty), port (name, number; absent for Jobs), startupSeconds,
  grace, preStopSeconds, restartPolicy, extraLabels, checksum, volumeMounts, volumes (rendered),
  serviceAccount, spread (bool), affinity (rendered, may be empty).
*/}}
{{- define "tickwire.pod" -}}
{{- $root := .root }}
{{- $block := .block -}}
metadata:
  labels:
    {{- include "tickwire.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
    app.kubernetes.io/part-of: tickwire
    {{- with .extraLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or .checksum $block.podAnnotations }}
  annotations:
    {{- with .checksum }}
    checksum/config: {{ . }}
    {{- end }}
    {{- with $block.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ .serviceAccount }}
  automountServiceAccountToken: false
  {{- with .restartPolicy }}
  restartPolicy: {{ . }}
  {{- end }}
  {{- with .grace }}
  terminationGracePeriodSeconds: {{ . }}
  {{- end }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if .spread }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "tickwire.selectorLabels" (dict "root" $root "component" .component) | nindent 10 }}
  {{- end }}
  {{- with .affinity }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with $block.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $block.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "tickwire.podSecurityContext" . | nindent 4 }}
  containers:
    - name: {{ .container | default .component }}
      image: {{ include "tickwire.image" (dict "root" $root "image" $block.image) }}
      imagePullPolicy: {{ $block.image.pullPolicy }}
      command: {{ toJson .command }}
      {{- with .configMaps }}
      envFrom:
        {{- range . }}
        - configMapRef:
            name: {{ . }}
        {{- end }}
      {{- end }}
      {{- with include "tickwire.lines" .env }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with .port }}
      ports:
        - name: {{ .name }}
          containerPort: {{ .number }}
      {{- end }}
      {{- with .preStopSeconds }}
      lifecycle:
        preStop:
          sleep:
            seconds: {{ . }}
      {{- end }}
      {{- with .port }}
      startupProbe:
        httpGet:
          path: /livez
          port: {{ .name }}
        periodSeconds: 2
        failureThreshold: {{ div ($.startupSeconds | default 120) 2 }}
      livenessProbe:
        httpGet:
          path: /livez
          port: {{ .name }}
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: {{ .name }}
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      {{- end }}
      resources:
        {{- toYaml $block.resources | nindent 8 }}
      securityContext:
        {{- include "tickwire.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with include "tickwire.lines" .volumeMounts }}
        {{- . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- with include "tickwire.lines" .volumes }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* dict root component block kind: the HorizontalPodAutoscaler of a scalable service. */}}
{{- define "tickwire.hpa" -}}
{{- if .block.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "tickwire.componentName" . }}
  labels:
    {{- include "tickwire.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: {{ .kind }}
    name: {{ include "tickwire.componentName" . }}
  minReplicas: {{ .block.autoscaling.minReplicas }}
  maxReplicas: {{ .block.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .block.autoscaling.targetCPUUtilizationPercentage }}
  {{- if .consumer }}
  behavior:
    # Every change of membership is a consumer-group rebalance: scale down slowly.
    scaleDown:
      stabilizationWindowSeconds: 600
      policies:
        - type: Pods
          value: 1
          periodSeconds: 300
  {{- end }}
{{- end }}
{{- end }}

{{/* dict root component: the ServiceAccount of a workload, without an API token. */}}
{{- define "tickwire.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "tickwire.componentName" . }}
  labels:
    {{- include "tickwire.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end }}

{{/* dict root component: at most one pod of the component down for a voluntary disruption. */}}
{{- define "tickwire.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "tickwire.componentName" . }}
  labels:
    {{- include "tickwire.labels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "tickwire.selectorLabels" . | nindent 6 }}
{{- end }}

{{/* dict root component port: the Service of a workload (the health/metrics port, or the API). */}}
{{- define "tickwire.metricsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "tickwire.componentName" . }}
  labels:
    {{- include "tickwire.labels" . | nindent 4 }}
spec:
  {{- if .headless }}
  clusterIP: None
  {{- end }}
  selector:
    {{- include "tickwire.selectorLabels" . | nindent 4 }}
  ports:
    - name: health
      port: {{ include "tickwire.healthPort" . }}
      targetPort: health
{{- end }}

{{- define "tickwire.kafkaConnectionData" -}}
KAFKA_BOOTSTRAP_SERVERS: {{ .Values.kafka.bootstrapServers | quote }}
TICKWIRE_TOPIC_PREFIX: {{ .Values.kafka.topicPrefix | quote }}
{{- end }}

{{/* dict root key: DATABASE_URL from the database Secret's `key`. */}}
{{- define "tickwire.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.database.existingSecret }}
      key: {{ .key }}
{{- end }}

{{/* The settings every Kafka service's ConfigMap carries, before its block's env. */}}
{{- define "tickwire.kafkaServiceDefaults" -}}
{{- toJson (dict
    "TICKWIRE_LOG_LEVEL" "INFO"
    "TICKWIRE_HEALTH_PORT" (include "tickwire.healthPort" .root)
    "TICKWIRE_STOP_GRACE_S" (toString .block.stopGraceSeconds)) }}
{{- end }}

{{/* The ConfigMap names a Kafka service reads with envFrom: the connection, then its own. */}}
{{- define "tickwire.kafkaServiceConfigMaps" -}}
{{- toJson (list
    (include "tickwire.componentName" (dict "root" .root "component" "kafka-connection"))
    (include "tickwire.componentName" .)) }}
{{- end }}

{{/* A list of words as shell words, each single-quoted, with a space before each. */}}
{{- define "tickwire.shellWords" -}}
{{- range . }} {{ squote (replace "'" "'\\''" .) }}{{- end }}
{{- end }}

{{/*
dict root component block command env (rendered) configMaps checksum volumeMounts volumes:
a nightly job's ServiceAccount and CronJob, its pod like the services' (tickwire.pod).
*/}}
{{- define "tickwire.schedule" -}}
---
{{ include "tickwire.serviceAccount" . }}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "tickwire.componentName" . }}
  labels:
    {{- include "tickwire.labels" . | nindent 4 }}
spec:
  schedule: {{ .block.schedule | quote }}
  timeZone: {{ .block.timeZone }}
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: {{ .block.startingDeadlineSeconds }}
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: {{ .block.backoffLimit }}
      activeDeadlineSeconds: {{ .block.activeDeadlineSeconds }}
      template:
        {{- include "tickwire.pod" (merge (dict
            "restartPolicy" "Never"
            "serviceAccount" (include "tickwire.componentName" .)) .) | nindent 8 }}
{{- end }}
