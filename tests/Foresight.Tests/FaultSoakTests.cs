using Xunit.Abstractions;

namespace Foresight.Tests;

/// <summary>
/// A small compare survives faults injected at random moments with nothing lost: SIGKILL, SIGTERM, SIGUSR1, a full disk
/// and a directory that refuses writes for a moment, the same command rerun after each. This short form injects 10
/// (about a minute); <c>tools/soak</c> runs the long form (FORESIGHT_SOAK_FAULTS, FORESIGHT_SOAK_SEED, FORESIGHT_SOAK_LOG).
/// </summary>
[Trait("Category", "Soak")]
public sealed class FaultSoakTests(ITestOutputHelper output)
{
    [Fact]
    public void A_compare_survives_injected_faults_with_every_result_equal_to_the_uninterrupted_run()
    {
        int faults = int.TryParse(Environment.GetEnvironmentVariable("FORESIGHT_SOAK_FAULTS"), out int f) ? f : 10;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FORESIGHT_SOAK_SEED"), out int s) ? s : 0;
        string? logFile = Environment.GetEnvironmentVariable("FORESIGHT_SOAK_LOG");
        if (logFile is not null) File.WriteAllText(logFile, "");
        void Log(string line)
        {
            string stamped = $"{DateTime.Now:HH:mm:ss} {line}";
            output.WriteLine(stamped);
            if (logFile is not null) File.AppendAllText(logFile, stamped + "\n");
        }

        var outcome = new FaultSoak(faults, seed, Log).Run();

        Log(outcome.ToString());
        Assert.True(outcome.Faults >= faults);
        Assert.True(outcome.ByKind.Count(k => k.Value > 0) >= Math.Min(faults, 4), "every kind the machine allows is injected");
    }
}
