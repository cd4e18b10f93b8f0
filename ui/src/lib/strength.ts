// Passphrase strength, estimated with zxcvbn-ts. The dictionaries are large, so they are loaded
// lazily (their own chunk) the first time someone types a passphrase. This is guidance only: the
// core decides what it accepts.

export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: StrengthScore;
  label: string;
  warning: string | null;
  suggestions: string[];
}

const LABELS: readonly string[] = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];

type Checker = (passphrase: string, userInputs: string[]) => Strength;

let checker: Promise<Checker> | null = null;

function load(): Promise<Checker> {
  checker ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    const zxcvbn = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
    });
    return (passphrase: string, userInputs: string[]): Strength => {
      const result = zxcvbn.check(passphrase, userInputs);
      const score = result.score as StrengthScore;
      return {
        score,
        label: LABELS[score] ?? '',
        warning: result.feedback.warning,
        suggestions: result.feedback.suggestions,
      };
    };
  })();
  return checker;
}

/** Estimates the strength of `passphrase`; `userInputs` (name, email, organisation) count as guessable. */
export async function estimateStrength(passphrase: string, userInputs: string[]): Promise<Strength> {
  const check = await load();
  return check(passphrase, userInputs.filter((s) => s.trim() !== ''));
}
