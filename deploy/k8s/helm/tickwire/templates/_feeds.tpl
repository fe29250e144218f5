{{/*
The ingest feeds, checked once and spelled out for the templates that render them: each feed's
object names, settings, Secrets and instances, and the anti-affinity that keeps its instances apart.
*/}}

{{/* Settings a feed's own fields set; in env they would be ambiguous. */}}
{{- define "tickwire.feedFields" -}}
{{- toJson (dict
    "TICKWIRE_CONNECTOR" "connector"
    "TICKWIRE_INSTRUMENTS" "instruments"
    "TICKWIRE_SIM_INSTRUMENTS" "instruments") }}
{{- end }}

{{/*
root -> {"feeds": [{name, connector, venue, configName, settings, secretEnv, resources,
instances: [{name, deployment, others}]}]}, or fail naming the value to change.
*/}}
{{- define "tickwire.feeds" -}}
{{- $root := . }}
{{- $block := .Values.ingest }}
{{- $fields := include "tickwire.feedFields" . | fromJson }}
{{- range $name, $field := $fields }}
{{- if hasKey $block.env $name }}
{{- fail (printf "ingest.env.%s: the connector and instruments are each feed's own now; move them into ingest.feeds, e.g. feeds: [{name: binance, connector: binance, instruments: [BTCUSDT]}] (docs/deploy/kubernetes.md, Feeds)" $name) }}
{{- end }}
{{- end }}
{{- $own := include "tickwire.kafkaServiceDefaults" (dict "root" . "block" $block) | fromJson }}
{{- $feeds := list }}
{{- $seen := dict }}
{{- range $index, $feed := $block.feeds }}
{{- $where := printf "ingest.feeds[%d] (%s)" $index $feed.name }}
{{- if hasKey $seen $feed.name }}
{{- fail (printf "%s: another feed is named %s; feed names must be unique (they name the feed's objects)" $where $feed.name) }}
{{- end }}
{{- $_ := set $seen $feed.name true }}
{{- range $name, $field := $fields }}
{{- if hasKey ($feed.env | default dict) $name }}
{{- fail (printf "%s: env.%s is set by the feed's `%s`" $where $name $field) }}
{{- end }}
{{- end }}
{{- $settings := merge (dict "TICKWIRE_CONNECTOR" $feed.connector) (deepCopy ($feed.env | default dict)) (deepCopy $block.env) $own }}
{{- with $feed.instruments }}
{{- $_ := set $settings (ternary "TICKWIRE_SIM_INSTRUMENTS" "TICKWIRE_INSTRUMENTS" (eq $feed.connector "simulator")) (join "," .) }}
{{- end }}
{{- $names := $feed.instances | default $block.instances }}
{{- $instances := list }}
{{- range $instance := $names }}
{{- $deployment := include "tickwire.componentName" (dict "root" $root "component" (printf "ingest-%s-%s" $feed.name $instance)) }}
{{- if gt (len $deployment) 63 }}
{{- fail (printf "%s: the Deployment name %s is longer than 63 characters; shorten the feed's name or its instance's, or the release's (fullnameOverride)" $where $deployment) }}
{{- end }}
{{- if hasKey $seen $deployment }}
{{- fail (printf "%s: its instance %s is named %s like another feed's; rename one of the feeds" $where $instance $deployment) }}
{{- end }}
{{- $_ := set $seen $deployment true }}
{{- $instances = append $instances (dict "name" $instance "deployment" $deployment "others" (without $names $instance)) }}
{{- end }}
{{- $feeds = append $feeds (dict
    "name" $feed.name
    "connector" $feed.connector
    "venue" (ne $feed.connector "simulator")
    "configName" (include "tickwire.componentName" (dict "root" $root "component" (print "ingest-" $feed.name)))
    "settings" $settings
    "secretEnv" (merge (deepCopy ($feed.secretEnv | default dict)) (deepCopy $block.secretEnv))
    "resources" (merge (deepCopy ($feed.resources | default dict)) (deepCopy $block.resources))
    "instances" $instances) }}
{{- end }}
{{- toJson (dict "feeds" $feeds) }}
{{- end }}

{{/* dict root feed: the labels of a feed's pods, or of one instance's (with instance). */}}
{{- define "tickwire.feedLabels" -}}
{{ include "tickwire.selectorLabels" (dict "root" .root "component" "ingest") }}
tickwire.io/feed: {{ .feed }}
{{- with .instance }}
tickwire.io/feed-instance: {{ . }}
{{- end }}
{{- end }}

{{/*
dict root feed others: a feed instance's pod anti-affinity against the feed's other instances. A
required term binds both ways (the scheduler also honours the running pods' terms), so each
instance naming the others keeps them apart whichever starts first. Pods of other feeds are free
to share a zone or a node.
*/}}
{{- define "tickwire.feedAffinity" -}}
{{- $zone := "topology.kubernetes.io/zone" }}
{{- $term := dict
    "labelSelector" (dict
        "matchLabels" (include "tickwire.feedLabels" (dict "root" .root "feed" .feed) | fromYaml)
        "matchExpressions" (list (dict "key" "tickwire.io/feed-instance" "operator" "In" "values" .others))) }}
{{- $apartBy := .root.Values.ingest.separateInstancesBy -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - {{- merge (dict "topologyKey" (ternary $zone "kubernetes.io/hostname" (eq $apartBy "zone"))) $term | toYaml | nindent 6 }}
  {{- if eq $apartBy "hostname" }}
  # One zone today; if the cluster gains another, the instances move apart as they reschedule.
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        {{- merge (dict "topologyKey" $zone) $term | toYaml | nindent 8 }}
  {{- end }}
{{- end }}
