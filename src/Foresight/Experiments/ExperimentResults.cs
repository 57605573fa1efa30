using System.Text.Json.Nodes;
using Foresight.Runs;

namespace Foresight.Experiments;

/// <summary>
/// The one results file every experiment writes (comparison.json for compare, curve.json for curve, experiment.json
/// for run): what kind of experiment, one entry per group (seeds pooled: mean and 95% CI), and one per run (its
/// summary and its probes' numbers).
/// </summary>
public static class ExperimentResults
{
    public static JsonObject ToJson(string kind, IReadOnlyList<CellResult> results, IReadOnlyList<GroupResult> groups, JsonObject? extra = null)
    {
        var json = new JsonObject { ["kind"] = kind };
        foreach (var (key, value) in extra ?? []) json[key] = value?.DeepClone();
        json["groups"] = new JsonArray([.. groups.Select(g => (JsonNode)Group(g))]);
        json["runs"] = new JsonArray([.. results.Select(r => (JsonNode)Json.Merge(
            new JsonObject { ["run"] = r.Path, ["group"] = r.Cell.Group },
            r.Result.ToJson(),
            new JsonObject { ["probes"] = new JsonObject(RunDirectory.Open(r.Path).ReadProbes().Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.DeepClone()))) }))]);
        return json;
    }

    /// <summary>A group flat, as earlier files wrote it: exact_match_mean, exact_match_ci95, ...</summary>
    private static JsonObject Group(GroupResult g)
    {
        var json = new JsonObject
        {
            ["group"] = g.Group,
            ["method"] = g.Method,
            ["label"] = g.Label,
            ["task"] = g.Task,
            ["model"] = Json.ToObject(g.Model),
            ["train_samples"] = g.TrainSamples,
            ["epochs"] = g.Epochs,
            ["batch_size"] = g.BatchSize,
            ["learning_rate"] = g.LearningRate,
            ["seeds"] = g.Seeds,
        };
        foreach (var (name, estimate) in new[] { ("exact_match", g.ExactMatch), ("first_decision_accuracy", g.FirstDecisionAccuracy), ("teacher_forced_accuracy", g.TeacherForcedAccuracy) })
        {
            json[$"{name}_mean"] = estimate.Mean;
            json[$"{name}_ci95"] = estimate.Ci95;
        }
        if (g.TrainExactMatch is { } train)
        {
            json["train_set_exact_match_mean"] = train.Mean;
            json["train_set_exact_match_ci95"] = train.Ci95;
            json["fits"] = Evaluation.Fits.Describe(g.Fits!.Value);
        }
        if (g.Creativity is { } c)
        {
            foreach (var (name, estimate) in new[] { ("creativity", c.Creativity), ("coherence", c.Coherence), ("uniqueness", c.Uniqueness), ("originality", c.Originality) })
            {
                json[$"{name}_mean"] = estimate.Mean;
                json[$"{name}_ci95"] = estimate.Ci95;
            }
            foreach (var (name, estimate) in new[] { ("their_creativity", c.PaperCreativity), ("their_diversity", c.PaperDiversity), ("their_seen", c.PaperSeen),
                         ("coherent_originality", c.CoherentOriginality), ("base_rate", c.BaseRate), ("ceiling", c.Ceiling) })
                if (estimate is not null)
                {
                    json[$"{name}_mean"] = estimate.Mean;
                    json[$"{name}_ci95"] = estimate.Ci95;
                }
            json["generation"] = new JsonObject { ["samples"] = c.Samples, ["prefix"] = c.Prefix, ["temperature"] = c.Temperature };
        }
        json["verdict"] = g.Verdict;
        json["first_decision_chance"] = g.FirstDecisionChance;
        json["train_seconds"] = g.TrainSeconds;
        json["runs"] = new JsonArray([.. g.Runs.Select(r => (JsonNode)r)]);
        return json;
    }
}
