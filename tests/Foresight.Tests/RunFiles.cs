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
}
