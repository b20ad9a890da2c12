// Numbers and times as people read them.

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function ago(value) {
  if (!value) return "never";
  const seconds = (Date.now() - new Date(value).getTime()) / 1000;
  const steps = [[60, "s", 1], [3600, "min", 60], [86400, "h", 3600], [86400 * 365, "d", 86400]];
  for (const [limit, unit, size] of steps) {
    if (Math.abs(seconds) < limit) return `${Math.round(seconds / size)} ${unit} ago`;
  }
  return `${Math.round(seconds / (86400 * 365))} y ago`;
}

export function number(value, digits = 3) {
  if (value === undefined || value === null) return "—";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** Any JSON value as indented text (shown with textContent, never as markup). */
export function json(value) {
  return value === undefined ? "" : JSON.stringify(value, null, 2);
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}
