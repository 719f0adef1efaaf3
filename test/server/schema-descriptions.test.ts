import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
} from 'graphql';
import { schema } from '../../src/graphql/schema.js';

/**
 * Every element a client developer sees in GraphiQL, the console or a generated client, by its
 * coordinate (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`), with its description.
 * GraphQL's own scalars and introspection types are described by the specification.
 */
function elements(): { coordinate: string; description: string | null | undefined }[] {
  const found: { coordinate: string; description: string | null | undefined }[] = [];
  const argsOf = (owner: string, args: readonly GraphQLArgument[]) => {
    for (const arg of args)
      found.push({ coordinate: `${owner}(${arg.name}:)`, description: arg.description });
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    found.push({ coordinate: type.name, description: type.description });
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const coordinate = `${type.name}.${field.name}`;
        found.push({ coordinate, description: field.description });
        argsOf(coordinate, field.args);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()) as GraphQLInputField[]) {
        found.push({ coordinate: `${type.name}.${field.name}`, description: field.description });
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        found.push({ coordinate: `${type.name}.${value.name}`, description: value.description });
      }
    }
  }
  return found;
}

describe('schema descriptions', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    const all = elements();
    const missing = all.filter((e) => !e.description?.trim()).map((e) => e.coordinate);
    const share = ((all.length - missing.length) / all.length) * 100;
    assert.deepEqual(
      missing,
      [],
      `${share.toFixed(1)}% of ${all.length} elements are described; missing:\n  ${missing.join('\n  ')}`,
    );
  });
});
