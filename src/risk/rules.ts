import path from 'node:path'
import { z } from 'zod'
import { loadYamlFile } from '../util/yaml-file.js'
import { projectRoot } from '../util/paths.js'

const Kind = z.object({
  id: z.string(),
  points: z.number(),
  zh: z.string(),
  en: z.string(),
  terms: z.array(z.string().min(1)).min(1),
  /** a mandatory requirement (regulation, conformity assessment...), as opposed to a voluntary standard */
  mandatory: z.boolean().default(true),
})

export const RiskRulesSchema = z.object({
  version: z.string(),
  levels: z.object({ high: z.number().min(0).max(100), medium: z.number().min(0).max(100) }).refine((l) => l.high > l.medium, 'levels.high must exceed levels.medium'),
  warning: z.object({
    minScore: z.number().min(0).max(100),
    minConfidence: z.number().min(0).max(1),
    publishWithoutReview: z.array(z.enum(['high', 'medium', 'low'])).default([]),
    /** measure statuses that reopen a warning an analyst dismissed before the measure reached them */
    reopenDismissedOn: z.array(z.enum(['adopted', 'in_force'])).default([]),
  }),
  factors: z.object({
    exposure: z.object({ max: z.number().min(0), saturation: z.number().positive(), unwatchedMarketWeight: z.number().min(0) }),
    nature: z.object({ max: z.number().min(0), kinds: z.array(Kind) }),
    objectives: z.object({ max: z.number().min(0), kinds: z.array(Kind) }),
    urgency: z.object({
      max: z.number().min(0),
      deadline: z.array(z.object({ within: z.number(), points: z.number() })).min(1),
      noDeadline: z.number(),
      entryIntoForceWithinDays: z.number().int().positive(),
      entryIntoForcePoints: z.number(),
    }),
    lifecycle: z.object({
      /** the comment period is over and nothing says adopted yet (0 when absent) */
      closed: z.number().default(0),
      adopted: z.number(),
      in_force: z.number(),
      withdrawn: z.number(),
      reopened: z.object({ points: z.number(), terms: z.array(z.string().min(1)).min(1) }),
    }),
    confidence: z.object({ floor: z.number().min(0).max(1) }),
  }),
})

export type RiskRules = z.infer<typeof RiskRulesSchema>

export const DEFAULT_RULES_FILE = path.join(projectRoot, 'rules', 'risk.yaml')

export function loadRiskRules(file = DEFAULT_RULES_FILE): RiskRules {
  return loadYamlFile(file, RiskRulesSchema)
}
