/** A maximal sequence of digit groups joined by separator gaps, e.g. `4111 1111 1111 1111`. */
export interface DigitRun {
  start: number;
  end: number;
  /** Offsets of each group: [start0, end0, start1, end1, …]. */
  groups: number[];
  /** The gaps between groups, in order. */
  gaps: string[];
  /** The digits alone. */
  digits: string;
}

const GROUP = /\d+/g;

/**
 * Calls `visit` for every run of digit groups whose gaps satisfy `joins` (given the gap, the
 * run's first gap and the lengths of the groups either side) and which holds at
 * most `maxDigits` digits; longer runs are skipped whole (a card or phone number is never a
 * slice of a longer number). One pass over the text: linear time.
 */
export function forEachDigitRun(
  text: string,
  joins: (gap: string, firstGap: string | undefined, before: number, after: number) => boolean,
  maxDigits: number,
  visit: (run: DigitRun) => void,
): void {
  let run: DigitRun | undefined;
  let overflow = false;
  const close = () => {
    if (run && !overflow) visit(run);
    run = undefined;
  };
  GROUP.lastIndex = 0;
  for (let m = GROUP.exec(text); m; m = GROUP.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    const gap = run && start - run.end <= 3 ? text.slice(run.end, start) : undefined;
    if (run && gap !== undefined && joins(gap, run.gaps[0], run.end - run.groups[run.groups.length - 1]!, end - start)) {
      run.end = end;
      if (overflow) continue;
      run.digits += m[0];
      run.groups.push(start, end);
      run.gaps.push(gap);
      overflow = run.digits.length > maxDigits;
      continue;
    }
    close();
    overflow = m[0].length > maxDigits;
    run = { start, end, groups: [start, end], gaps: [], digits: overflow ? "" : m[0] };
  }
  close();
}

/** Lengths of the run's groups, e.g. [4, 4, 4, 4]. */
export function groupLengths(run: DigitRun): number[] {
  const lengths: number[] = [];
  for (let i = 0; i < run.groups.length; i += 2) lengths.push(run.groups[i + 1]! - run.groups[i]!);
  return lengths;
}
