/**
 * "Did you mean …?" for misspelt keys, profile and metric names: the closest candidate by edit
 * distance, when it is close enough to be a likely typo.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // A third of the word's length, at least 1 and at most 3 edits: `telemtry` -> `telemetry`, `rpi5` -> no.
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    // The distance is at least the difference in length: skip without computing it, so a 2 MB
    // name costs nothing (the full table was tens of millions of cells per candidate).
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** A hint naming the likely intended candidate, then every candidate. */
export function suggestionHint(word: string, candidates: readonly string[], label: string): string {
  const guess = closest(word, candidates);
  // The candidates are fleetsim's own names (keys, profiles, metrics), never user text.
  const list = `${label}: ${candidates.join(', ')}`;
  return guess ? `did you mean "${guess}"? ${list}` : list;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1];
}
