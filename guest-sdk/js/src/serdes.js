// Serdes: how results are turned into journal text and back (async, as in AWS's SDK).

/** JSON; `undefined` stays undefined. */
export const defaultSerdes = {
  serialize: async (value, _context) => (value !== undefined ? JSON.stringify(value) : undefined),
  deserialize: async (data, _context) => (data !== undefined ? JSON.parse(data) : undefined),
};

/** JSON, read back into an instance of `cls`. */
export function createClassSerdes(cls) {
  return {
    serialize: async (value) => (value !== undefined ? JSON.stringify(value) : undefined),
    deserialize: async (data) => (data !== undefined ? Object.assign(new cls(), JSON.parse(data)) : undefined),
  };
}

/** Like createClassSerdes, with `dateProps` read back as Date objects. */
export function createClassSerdesWithDates(cls, dateProps) {
  return {
    serialize: async (value) => (value !== undefined ? JSON.stringify(value) : undefined),
    deserialize: async (data) => {
      if (data === undefined) return undefined;
      const obj = Object.assign(new cls(), JSON.parse(data));
      for (const prop of dateProps) if (obj[prop] != null) obj[prop] = new Date(obj[prop]);
      return obj;
    },
  };
}
