import { describe, expect, test } from 'vitest';
import { Inputs, envInputs, mapInputs, splitList } from '../src/inputs';
import { InputError } from '../src/errors';

const inputs = (v: Record<string, string>) => new Inputs(mapInputs(v));

describe('Inputs', () => {
  test.each([
    ['true', true],
    ['True', true],
    ['yes', true],
    ['1', true],
    ['false', false],
    ['OFF', false],
    ['0', false],
  ])('bool %s -> %s', (raw, expected) => {
    expect(inputs({ b: raw }).bool('b', !expected)).toBe(expected);
  });

  test('bool falls back when empty and rejects anything else naming the input', () => {
    expect(inputs({}).bool('b', true)).toBe(true);
    expect(() => inputs({ b: 'maybe' }).bool('b', true)).toThrow("Input 'b' must be true or false (got 'maybe')");
  });

  test('required names the missing input', () => {
    expect(() => inputs({}).required('repository')).toThrow(new InputError('repository', 'is required'));
    expect(inputs({ repository: '  x  ' }).required('repository')).toBe('x');
  });

  test.each([
    ['5', 5],
    ['0', 0],
  ])('int %s', (raw, n) => expect(inputs({ n: raw }).int('n', 1, { min: 0, max: 10 })).toBe(n));

  test.each(['11', '-1', '1.5', 'ten'])('int rejects %s', (raw) => {
    expect(() => inputs({ n: raw }).int('n', 1, { min: 0, max: 10 })).toThrow("Input 'n' must be a whole number from 0 to 10");
  });

  test('oneOf is case-insensitive and returns the canonical spelling', () => {
    expect(inputs({ m: 'immutable' }).oneOf('m', ['IMMUTABLE', 'MUTABLE'] as const, 'MUTABLE')).toBe('IMMUTABLE');
    expect(() => inputs({ m: 'sometimes' }).oneOf('m', ['IMMUTABLE', 'MUTABLE'] as const, 'MUTABLE')).toThrow(
      "Input 'm' must be one of IMMUTABLE, MUTABLE (got 'sometimes')",
    );
  });

  test('list splits on newlines and commas and drops blanks', () => {
    expect(splitList('a, b\n\nc,')).toEqual(['a', 'b', 'c']);
    expect(inputs({ l: '' }).list('l')).toEqual([]);
  });

  test('keyValues keeps = and commas in values, skips comments, rejects bad keys', () => {
    expect(inputs({ kv: 'A=1\n# note\nB=x=y,z\nC=' }).keyValues('kv')).toEqual([
      ['A', '1'],
      ['B', 'x=y,z'],
      ['C', ''],
    ]);
    expect(() => inputs({ kv: '=1' }).keyValues('kv')).toThrow("Input 'kv' must be KEY=VALUE lines");
    expect(() => inputs({ kv: 'NOEQUALS' }).keyValues('kv')).toThrow("(got 'NOEQUALS')");
  });

  test('envInputs reads INPUT_ variables the way the runner sets them', () => {
    const source = envInputs({ 'INPUT_AWS-REGION': ' eu-west-1 ', INPUT_MY_INPUT: 'v' });
    expect(source('aws-region')).toBe(' eu-west-1 ');
    expect(source('my input')).toBe('v');
    // Inputs trims as @actions/core does; exact() keeps what was given, for names that must be exact.
    const inputs = new Inputs(source);
    expect(inputs.string('aws-region')).toBe('eu-west-1');
    expect(inputs.exact('aws-region')).toBe(' eu-west-1 ');
  });
});
