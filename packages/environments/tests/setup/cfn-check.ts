/**
 * An independent check of CloudFormation templates against AWS's resource specification as
 * published in @aws-cdk/aws-service-spec (the registry schemas CDK generates its L1 classes
 * from): every resource type exists, every property is known with the right shape, required
 * properties are there, Ref/GetAtt/If/Condition point at what the template declares and GetAtt
 * names an attribute the type has. Intrinsics stand for any value.
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';

type Db = Awaited<ReturnType<typeof loadAwsServiceSpec>>;
type PropType = { type: string; element?: PropType; reference?: { $ref: string }; types?: PropType[]; allowedValues?: string[] };
type Prop = { type: PropType; required?: boolean; previousTypes?: PropType[] };

let db: Promise<Db> | undefined;
const spec = () => (db ??= loadAwsServiceSpec());

const isIntrinsic = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Fn::\w+|Condition)$/.test(Object.keys(v)[0]!);

export async function checkTemplate(template: Record<string, any>): Promise<string[]> {
  const d = await spec();
  const errors: string[] = [];
  const resources: Record<string, any> = template.Resources ?? {};
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  const pseudo = new Set(['AWS::AccountId', 'AWS::Partition', 'AWS::Region', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NoValue']);
  const types = new Map<string, any>();

  const checkIntrinsics = (v: unknown, at: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => checkIntrinsics(x, `${at}[${i}]`));
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && !(params.has(x as string) || resources[x as string] || pseudo.has(x as string))) errors.push(`${at}: Ref to unknown '${x}'`);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = x as [string, string];
        const r = resources[id];
        if (!r) errors.push(`${at}: GetAtt of unknown resource '${id}'`);
        else if (types.get(id) && !(attr in (types.get(id).attributes ?? {}))) errors.push(`${at}: ${r.Type} has no attribute '${attr}'`);
      }
      if (k === 'Fn::If' && !conditions.has((x as string[])[0]!)) errors.push(`${at}: Fn::If on unknown condition '${(x as string[])[0]}'`);
      if (k === 'Fn::Sub') {
        for (const m of String(x).matchAll(/\$\{([^}!]+)\}/g)) {
          const name = m[1]!.split('.')[0]!;
          if (!(params.has(name) || resources[name] || pseudo.has(m[1]!))) errors.push(`${at}: Fn::Sub refers to unknown '${m[1]}'`);
        }
      }
      checkIntrinsics(x, `${at}.${k}`);
    }
  };

  const checkValue = (t: PropType, v: unknown, at: string): void => {
    if (isIntrinsic(v)) return;
    switch (t.type) {
      case 'string':
      case 'date-time':
        if (typeof v !== 'string') errors.push(`${at}: expected a string`);
        else if (t.allowedValues && !t.allowedValues.includes(v)) errors.push(`${at}: '${v}' is not one of ${t.allowedValues.join(', ')}`);
        return;
      case 'number':
      case 'integer':
        if (typeof v !== 'number' && !(typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))) errors.push(`${at}: expected a number`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean' && v !== 'true' && v !== 'false') errors.push(`${at}: expected a boolean`);
        return;
      case 'json':
        if (typeof v !== 'object' && typeof v !== 'string') errors.push(`${at}: expected JSON`);
        return;
      case 'array':
        if (!Array.isArray(v)) errors.push(`${at}: expected a list`);
        else v.forEach((x, i) => checkValue(t.element!, x, `${at}[${i}]`));
        return;
      case 'map':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) errors.push(`${at}: expected a map`);
        else for (const [k, x] of Object.entries(v)) checkValue(t.element!, x, `${at}.${k}`);
        return;
      case 'ref': {
        const def = d.get('typeDefinition', t.reference!.$ref) as unknown as { properties: Record<string, Prop> };
        checkProps(def.properties, v, at);
        return;
      }
      case 'union': {
        const before = errors.length;
        const ok = t.types!.some((u) => {
          const n = errors.length;
          checkValue(u, v, at);
          const fine = errors.length === n;
          errors.length = n;
          return fine;
        });
        errors.length = before;
        if (!ok) errors.push(`${at}: matches none of the allowed shapes`);
        return;
      }
      default:
        return;
    }
  };

  const checkProps = (props: Record<string, Prop>, v: unknown, at: string): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void errors.push(`${at}: expected an object`);
    for (const [k, x] of Object.entries(v)) {
      const p = props[k];
      if (!p) errors.push(`${at}: unknown property '${k}'`);
      else checkValue(p.type, x, `${at}.${k}`);
    }
    for (const [k, p] of Object.entries(props)) if (p.required && !(k in v)) errors.push(`${at}: missing required property '${k}'`);
  };

  if (template.AWSTemplateFormatVersion !== '2010-09-09') errors.push('AWSTemplateFormatVersion must be 2010-09-09');
  for (const [id, r] of Object.entries(resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id)) errors.push(`Resources.${id}: logical ids are alphanumeric`);
    const found = d.lookup('resource', 'cloudFormationType', 'equals', r.Type);
    if (found.length !== 1) {
      errors.push(`Resources.${id}: unknown resource type ${r.Type}`);
      continue;
    }
    types.set(id, found.only());
  }
  for (const [id, r] of Object.entries(resources)) {
    const t = types.get(id);
    if (!t) continue;
    for (const k of Object.keys(r)) if (!['Type', 'Properties', 'Condition', 'DependsOn', 'Metadata', 'DeletionPolicy', 'UpdateReplacePolicy'].includes(k)) errors.push(`Resources.${id}: unknown attribute '${k}'`);
    if (r.Condition && !conditions.has(r.Condition)) errors.push(`Resources.${id}: unknown condition '${r.Condition}'`);
    checkProps(t.properties, r.Properties ?? {}, `Resources.${id}.Properties`);
    checkIntrinsics(r.Properties, `Resources.${id}.Properties`);
  }
  for (const [id, o] of Object.entries<any>(template.Outputs ?? {})) {
    if (!/^[A-Za-z0-9]+$/.test(id)) errors.push(`Outputs.${id}: logical ids are alphanumeric`);
    if (o.Value === undefined) errors.push(`Outputs.${id}: missing Value`);
    checkIntrinsics(o.Value, `Outputs.${id}.Value`);
  }
  checkIntrinsics(template.Conditions, 'Conditions');
  for (const [id, p] of Object.entries<any>(template.Parameters ?? {})) {
    if (!['String', 'Number', 'CommaDelimitedList', 'List<Number>'].includes(p.Type) && !String(p.Type).startsWith('AWS::')) errors.push(`Parameters.${id}: unknown Type ${p.Type}`);
  }
  return errors;
}
