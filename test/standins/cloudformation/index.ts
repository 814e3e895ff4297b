/**
 * What CloudFormation would create from a template and a parameter file, for the test world:
 * the resources with every intrinsic resolved, and the stack outputs. Written by hand because
 * no npm package resolves a template offline (cfn-lint is Python; the CDK's assertions need
 * a CDK app); it covers CloudFormation's documented semantics for what the generated
 * templates use, and throws on anything else so a template it cannot read never loads wrong:
 *   - Parameters: the file's `ParameterKey`/`ParameterValue` list (the form `aws cloudformation
 *     deploy --parameter-overrides file://` and `create-stack --parameters file://` read), else
 *     `Default`; `AllowedValues` and `AllowedPattern` are checked; a parameter the template does
 *     not declare or one without a value is an error, as CloudFormation refuses the stack;
 *   - Conditions (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`), a resource's
 *     `Condition` (false: not created), `Fn::If` with `AWS::NoValue`;
 *   - `Ref` (parameters; pseudo parameters AWS::AccountId, AWS::Region, AWS::Partition,
 *     AWS::StackName, AWS::URLSuffix; resources: the documented return value of their type),
 *     `Fn::GetAtt` (the attributes below), `Fn::Sub` (both forms, `${!Literal}`), `Fn::Join`,
 *     `Fn::Select`, `Fn::Split`.
 * Resource types and their Ref / GetAtt (CloudFormation resource reference, "Return values"):
 * AWS::IAM::Role (RoleName; Arn, RoleId), AWS::IAM::OIDCProvider (Arn; Arn), AWS::IAM::ManagedPolicy
 * (Arn; PolicyArn), AWS::IAM::RolePolicy / AWS::IAM::Policy (none used), AWS::KMS::Key (KeyId;
 * Arn, KeyId), AWS::KMS::Alias (AliasName), AWS::EKS::AccessEntry (none used). Physical ids
 * CloudFormation generates (a role without RoleName, a key id) are derived from the stack and
 * logical id, so they are stable across loads.
 */
import { createHash } from 'node:crypto';

export interface ParameterValue {
  ParameterKey: string;
  ParameterValue: string;
}

export interface StackInput {
  stackName: string;
  account: string;
  region: string;
  template: Template;
  parameters?: ParameterValue[];
}

export interface Template {
  Parameters?: Record<string, { Type?: string; Default?: string; AllowedValues?: string[]; AllowedPattern?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, unknown>; DependsOn?: unknown }>;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
}

export interface LoadedResource {
  logicalId: string;
  type: string;
  /** Properties with every intrinsic resolved. */
  properties: Record<string, any>;
  /** What `Ref` returns for it. */
  ref: string;
  /** `Fn::GetAtt` attributes. */
  attributes: Record<string, string>;
}

export interface LoadedStack {
  stackName: string;
  account: string;
  region: string;
  /** The resources CloudFormation creates (those whose Condition holds), by logical id. */
  resources: Record<string, LoadedResource>;
  outputs: Record<string, string>;
}

export class TemplateError extends Error {}

const NO_VALUE = Symbol('AWS::NoValue');
const stableId = (...parts: string[]) => createHash('sha256').update(parts.join('/')).digest('hex');
const uuidOf = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;

/** The physical names and ARNs CloudFormation gives a resource of `type`, before its properties are resolved. */
function identityOf(stack: StackInput, logicalId: string, type: string, name: (prop: string) => string | undefined): Pick<LoadedResource, 'ref' | 'attributes'> {
  const arn = (service: string, resource: string, region = '') => `arn:aws:${service}:${region}:${stack.account}:${resource}`;
  const generated = `${stack.stackName}-${logicalId}-${stableId(stack.stackName, logicalId).slice(0, 12).toUpperCase()}`;
  switch (type) {
    case 'AWS::IAM::Role': {
      const roleName = name('RoleName') ?? generated.slice(0, 64);
      const path = name('Path') ?? '/';
      return { ref: roleName, attributes: { Arn: arn('iam', `role${path}${roleName}`), RoleId: `AROA${stableId(logicalId).slice(0, 17).toUpperCase()}` } };
    }
    case 'AWS::IAM::OIDCProvider': {
      const url = (name('Url') ?? '').replace(/^https:\/\//, '');
      const a = arn('iam', `oidc-provider/${url}`);
      return { ref: a, attributes: { Arn: a } };
    }
    case 'AWS::IAM::ManagedPolicy': {
      const a = arn('iam', `policy${name('Path') ?? '/'}${name('ManagedPolicyName') ?? generated}`);
      return { ref: a, attributes: { PolicyArn: a } };
    }
    case 'AWS::KMS::Key': {
      const keyId = uuidOf(stableId(stack.account, stack.region, stack.stackName, logicalId));
      return { ref: keyId, attributes: { Arn: arn('kms', `key/${keyId}`, stack.region), KeyId: keyId } };
    }
    case 'AWS::KMS::Alias':
      return { ref: name('AliasName') ?? '', attributes: {} };
    case 'AWS::IAM::RolePolicy':
    case 'AWS::IAM::Policy':
    case 'AWS::EKS::AccessEntry':
      return { ref: generated, attributes: {} };
    default:
      throw new TemplateError(`${logicalId}: resource type ${type} is not modelled by the test world's CloudFormation loader`);
  }
}

export function loadStack(stack: StackInput): LoadedStack {
  const t = stack.template;
  const declared = t.Parameters ?? {};
  const params: Record<string, string> = {};
  for (const p of stack.parameters ?? []) {
    if (!(p.ParameterKey in declared)) throw new TemplateError(`Parameters: [${p.ParameterKey}] do not exist in the template`);
    params[p.ParameterKey] = p.ParameterValue;
  }
  for (const [key, def] of Object.entries(declared)) {
    const value = params[key] ?? def.Default;
    if (value === undefined) throw new TemplateError(`Parameters: [${key}] must have values`);
    if (def.AllowedValues && !def.AllowedValues.includes(value)) throw new TemplateError(`Parameter '${key}' must be one of AllowedValues`);
    if (def.AllowedPattern && !new RegExp(`^(?:${def.AllowedPattern})$`).test(value)) throw new TemplateError(`Parameter '${key}' must match pattern ${def.AllowedPattern}`);
    params[key] = value;
  }
  const pseudo: Record<string, string> = {
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::Partition': 'aws',
    'AWS::StackName': stack.stackName,
    'AWS::URLSuffix': 'amazonaws.com',
  };

  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const def = t.Conditions?.[name];
    if (def === undefined) throw new TemplateError(`Condition ${name} is not defined`);
    const value = Boolean(resolve(def, `Conditions.${name}`, true));
    conditions.set(name, value);
    return value;
  };

  const created = Object.entries(t.Resources).filter(([, r]) => r.Condition === undefined || condition(r.Condition));
  // Names come from literal or parameter-based properties only (what the generated templates use), resolved lazily.
  const identities = new Map<string, Pick<LoadedResource, 'ref' | 'attributes'>>();
  const identity = (logicalId: string, where: string) => {
    const known = identities.get(logicalId);
    if (known) return known;
    const r = t.Resources[logicalId];
    if (!r) throw new TemplateError(`${where}: unresolved resource dependency ${logicalId}`);
    if (r.Condition !== undefined && !condition(r.Condition)) throw new TemplateError(`${where}: ${logicalId} is not created (Condition ${r.Condition})`);
    const id = identityOf(stack, logicalId, r.Type, (prop) => {
      const v = r.Properties?.[prop];
      return v === undefined ? undefined : String(resolve(v, `${logicalId}.${prop}`));
    });
    identities.set(logicalId, id);
    return id;
  };

  function ref(name: string, where: string): string {
    if (name in params) return params[name]!;
    if (name in pseudo) return pseudo[name]!;
    return identity(name, where).ref;
  }
  function getAtt(logicalId: string, attribute: string, where: string): string {
    const v = identity(logicalId, where).attributes[attribute];
    if (v === undefined) throw new TemplateError(`${where}: Fn::GetAtt ${logicalId}.${attribute} is not an attribute the loader knows for ${t.Resources[logicalId]!.Type}`);
    return v;
  }
  function sub(text: string, vars: Record<string, unknown>, where: string): string {
    return text.replace(/\$\{([^}]+)\}/g, (_m, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      if (inner in vars) return String(resolve(vars[inner], where));
      const dot = inner.indexOf('.');
      if (dot > 0 && !inner.startsWith('AWS::')) return getAtt(inner.slice(0, dot), inner.slice(dot + 1), where);
      return ref(inner, where);
    });
  }

  function resolve(node: unknown, where: string, inCondition = false): any {
    if (Array.isArray(node)) return node.map((n) => resolve(n, where, inCondition)).filter((n) => n !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      const list = () => {
        if (!Array.isArray(arg)) throw new TemplateError(`${where}: ${fn} takes a list`);
        return arg as unknown[];
      };
      switch (fn) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : ref(String(arg), where);
        case 'Fn::GetAtt': {
          const [id, attr] = typeof arg === 'string' ? (arg.split(/\.(.*)/s) as [string, string]) : (list() as [string, string]);
          return getAtt(id, attr, where);
        }
        case 'Fn::Sub':
          return typeof arg === 'string' ? sub(arg, {}, where) : sub(String(list()[0]), (list()[1] ?? {}) as Record<string, unknown>, where);
        case 'Fn::Join': {
          const [delimiter, items] = list() as [string, unknown];
          return (resolve(items, where) as unknown[]).map(String).join(delimiter);
        }
        case 'Fn::Select': {
          const [index, items] = list();
          return (resolve(items, where) as unknown[])[Number(resolve(index, where))];
        }
        case 'Fn::Split': {
          const [delimiter, text] = list() as [string, unknown];
          return String(resolve(text, where)).split(delimiter);
        }
        case 'Fn::If': {
          const [name, yes, no] = list() as [string, unknown, unknown];
          return resolve(condition(name) ? yes : no, where, inCondition);
        }
        case 'Fn::Equals': {
          const [a, b] = list();
          return String(resolve(a, where, true)) === String(resolve(b, where, true));
        }
        case 'Fn::Not':
          return !resolve(list()[0], where, true);
        case 'Fn::And':
          return list().every((c) => resolve(c, where, true));
        case 'Fn::Or':
          return list().some((c) => resolve(c, where, true));
        case 'Condition':
          if (inCondition) return condition(String(arg));
          break;
        default:
          if (fn.startsWith('Fn::')) throw new TemplateError(`${where}: intrinsic function ${fn} is not modelled by the test world's CloudFormation loader`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const value = resolve(v, where, inCondition);
      if (value !== NO_VALUE) out[k] = value;
    }
    return out;
  }

  const resources: Record<string, LoadedResource> = {};
  for (const [logicalId, r] of created) {
    resources[logicalId] = { logicalId, type: r.Type, properties: resolve(r.Properties ?? {}, logicalId), ...identity(logicalId, logicalId) };
  }
  const outputs: Record<string, string> = {};
  for (const [name, o] of Object.entries(t.Outputs ?? {})) {
    if (o.Condition === undefined || condition(o.Condition)) outputs[name] = String(resolve(o.Value, `Outputs.${name}`));
  }
  return { stackName: stack.stackName, account: stack.account, region: stack.region, resources, outputs };
}
