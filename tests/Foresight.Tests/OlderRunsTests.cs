using Foresight.Evaluation;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Tests;

/// <summary>
/// Run directories written by earlier versions (fixtures/runs-2026-12-07: one tiny trained run of every task, written
/// before tasks declared their options, and one addition run whose config.json is older still: no answer order, no
/// precision, no weight-decay rule). They must load, rebuild the same task and model, and report.
/// </summary>
public sealed class OlderRunsTests
{
    private static readonly string Fixtures = Repository.PathOf("tests", "Foresight.Tests", "fixtures", "runs-2026-12-07");

    public static TheoryData<string> Runs() => [.. Directory.EnumerateDirectories(Fixtures).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Theory]
    [MemberData(nameof(Runs))]
    public void An_older_run_loads_and_its_model_scores_what_its_summary_says(string name)
    {
        var run = RunDirectory.Open(Path.Combine(Fixtures, name));
        var saved = run.ReadResult();
        var (config, task, method) = Trainer.LoadTrained(run);
        using var _ = method;
        Assert.Equal(saved.Training.Task, task.Description); // the same task, rebuilt from the older config.json
        using var train = Trainer.MakeTrainingSet(task, config.Training);
        using var test = Trainer.MakeTestSet(task, config.Training);
        var again = Evaluator.Evaluate(method, task, test, memory: Trainer.Memory(task, train));
        Assert.Equal(saved.Test.ExactMatch, again.ExactMatch);
        Assert.Equal(saved.Test.PerPositionAccuracy, again.PerPositionAccuracy);
        Assert.Equal(saved.Test.TeacherForcedPerPosition, again.TeacherForcedPerPosition);
        Assert.Equal(saved.Test.Creativity?.Creativity, again.Creativity?.Creativity);
    }

    [Fact]
    public void An_addition_config_from_before_the_answer_order_reads_as_msb_first()
    {
        var config = RunDirectory.Open(Path.Combine(Fixtures, "addition-msb")).ReadConfig();
        Assert.Equal(new TaskSpec("addition", new AdditionOptions { Digits = 2, AnswerOrder = AnswerOrder.MsbFirst }), config.Task);
        Assert.Equal(Models.Precision.Fp32, config.Model.Precision);
        Assert.Equal(WeightDecayOn.All, config.Training.WeightDecayOn);
    }

    [Fact]
    public void A_report_over_every_older_run_names_each_and_its_exact_match()
    {
        using var temp = new TempDirectory();
        var runs = ReportRun.Find([Fixtures]);
        Assert.Equal(Runs().Count, runs.Count);
        Report.Write(runs, temp.Path, overwrite: false);
        string report = File.ReadAllText(temp[Report.FileName]);
        foreach (var run in runs) Assert.Contains(run.Task.Description, report);
    }
}
