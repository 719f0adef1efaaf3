/** Pothos enum values, each with its description, from a record that must name every value. */
export const describedValues = <V extends string>(descriptions: Record<V, string>) =>
  Object.fromEntries(
    Object.entries<string>(descriptions).map(([value, description]) => [value, { description }]),
  ) as Record<V, { description: string }>;
