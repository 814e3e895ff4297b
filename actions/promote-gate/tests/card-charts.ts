/** A template that renders `.Values.many` ConfigMaps: the large chart of the card's test and bench. */
export const manyTemplate = `{{- range $i := until (int .Values.many) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  value: {{ $.Values.manyValue | quote }}
  index: "{{ $i }}"
{{- end }}
`;
