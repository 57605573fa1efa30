using System.Text.Json.Nodes;

namespace Foresight.Tests;

/// <summary>What tests read back from run directories.</summary>
internal static class RunFiles
{
    /// <summary>A run's summary.json without its timings, which differ between any two runs of the same config.</summary>
    public static string SummaryWithoutTimings(string run)
    {
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "summary.json")))!.AsObject();
        summary.Remove("train_seconds");
        summary.Remove("tokens_per_second");
        return summary.ToJsonString();
    }

    /// <summary>
    /// The numbers of a results file (comparison.json, curve.json, experiment.json): every group's and every run's scores
    /// and probes, timings and paths left out.
    /// </summary>
    public static string Numbers(string results)
    {
        var json = JsonNode.Parse(File.ReadAllText(results))!;
        var groups = json["groups"]!.AsArray().Select(g => $"{g!["group"]} {g["label"]} {g["exact_match_mean"]} {g["first_decision_accuracy_mean"]} {g["teacher_forced_accuracy_mean"]}");
        var runs = json["runs"]!.AsArray().Select(r => $"{r!["group"]} {r["exact_match"]} {r["per_position_accuracy"]!.ToJsonString()} {r["final_train_loss"]} {r["probes"]?.ToJsonString()}");
        return string.Join("\n", groups.Concat(runs));
    }
}
