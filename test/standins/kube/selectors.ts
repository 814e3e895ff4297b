// Label selectors (equality and set-based) and field selectors, as in the Kubernetes API conventions.
export type Labels = Record<string, string> | undefined;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';
  values: string[];
}

/** Split on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function parseLabelSelector(sel: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const part of splitTop(sel)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '') });
    } else if ((m = part.match(/^([^\s!=]+)\s*(==|!=|=)\s*(.*)$/))) {
      reqs.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', values: [m[3]!.trim()] });
    } else if ((m = part.match(/^!\s*([^\s!=]+)$/))) {
      reqs.push({ key: m[1]!, op: '!exists', values: [] });
    } else if ((m = part.match(/^([^\s!=()]+)$/))) {
      reqs.push({ key: m[1]!, op: 'exists', values: [] });
    } else {
      throw new Error(`unable to parse requirement: ${part}`);
    }
  }
  return reqs;
}

function matchReq(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case '=': return value === r.values[0];
    case '!=': return value !== r.values[0];
    case 'in': return value !== undefined && r.values.includes(value);
    case 'notin': return value === undefined || !r.values.includes(value);
    case 'exists': return value !== undefined;
    case '!exists': return value === undefined;
  }
}

export function matchLabelSelector(sel: string | undefined, labels: Labels): boolean {
  if (!sel) return true;
  return parseLabelSelector(sel).every((r) => matchReq(r, labels?.[r.key]));
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions). An empty selector matches everything. */
export function matchSelectorObject(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined, labels: Labels): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels?.[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as const)[e.operator as 'In'];
    if (!op || !matchReq({ key: e.key, op, values: e.values ?? [] }, labels?.[e.key])) return false;
  }
  return true;
}

export function selectorObjectToString(sel: { matchLabels?: Record<string, string> } | undefined): string {
  return Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

function fieldValue(obj: any, path: string): string | undefined {
  let cur = obj;
  for (const p of path.split('.')) {
    if (cur === undefined || cur === null) return undefined;
    cur = cur[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return String(cur);
}

/** Field selectors: `a.b=c`, `a.b==c`, `a.b!=c`, comma-separated. A missing field compares as ''. */
export function matchFieldSelector(sel: string | undefined, obj: any): boolean {
  if (!sel) return true;
  for (const part of splitTop(sel)) {
    const m = part.match(/^([^!=]+)(==|!=|=)(.*)$/);
    if (!m) throw new Error(`invalid field selector: ${part}`);
    const v = fieldValue(obj, m[1]!.trim()) ?? '';
    const want = m[3]!.trim();
    if (m[2] === '!=' ? v === want : v !== want) return false;
  }
  return true;
}
