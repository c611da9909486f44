import { z } from 'zod';

/** The structured answer asked of a model; validated before it is stored. */
export const insightAnswerSchema = z.object({
  probableCause: z.string().min(1),
  whereToLook: z.string().min(1),
  suggestedFix: z.string().min(1),
  confidence: z.union([
    z.enum(['low', 'medium', 'high']),
    z
      .number()
      .min(0)
      .max(1)
      .transform((n) => (n >= 0.7 ? 'high' : n >= 0.4 ? 'medium' : 'low') as 'low' | 'medium' | 'high'),
  ]),
});
export type InsightAnswer = z.output<typeof insightAnswerSchema>;

/** Pull a JSON object out of a model's reply (bare, fenced in ```json, or wrapped in prose). */
export function parseAnswer(text: string): InsightAnswer | undefined {
  const candidates: string[] = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  for (const c of candidates) {
    try {
      const raw = JSON.parse(c) as Record<string, unknown>;
      // Accept snake_case keys too: small local models often answer that way.
      const norm = {
        probableCause: raw.probableCause ?? raw.probable_cause ?? raw.cause,
        whereToLook: raw.whereToLook ?? raw.where_to_look ?? raw.location,
        suggestedFix: raw.suggestedFix ?? raw.suggested_fix ?? raw.fix,
        confidence: typeof raw.confidence === 'string' ? raw.confidence.toLowerCase() : raw.confidence,
      };
      const parsed = insightAnswerSchema.safeParse(norm);
      if (parsed.success) return parsed.data;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}
