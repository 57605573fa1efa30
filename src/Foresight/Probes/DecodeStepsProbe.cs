using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>Exact match of one sampler at one step budget K.</summary>
/// <param name="ExactMatchLow95">Wilson 95% interval of <paramref name="ExactMatch"/> over the test examples, lower end.</param>
public sealed record DecodeStepsPoint(string Sampler, int Steps, double ExactMatch, double ExactMatchLow95, double ExactMatchHigh95, double FirstDecisionAccuracy);

public sealed record DecodeStepsResult(int Examples, IReadOnlyList<DecodeStepsPoint> Points);

/// <summary>
/// Accuracy against the number of denoising steps K (1 = one-shot, up to one token per step), for
/// each sampler: how much of the answer a diffusion model can write at once.
/// </summary>
public sealed class DecodeStepsProbe : IProbe
{
    public const string Name = "steps";

    string IProbe.Name => Name;
    public string Description => "diffusion: exact match on the test set for each sampler at K = 1, 2, 5 and one step per target token";
    public bool TakesExamples => false;
    public Type ResultType => typeof(DecodeStepsResult);

    public string? WhyNot(ITrainingMethod method, ITask task, Runs.RunConfig config) =>
        method is not MaskedDiffusion ? $"{config.Method} has no denoising steps to vary"
        : task.FirstDecisionPosition < 0 ? $"{task.Description} has its decision at a different place in each example" : null;

    object IProbe.Run(ProbeContext c)
    {
        using var test = Training.Trainer.MakeTestSet(c.Task, c.Config.Training);
        return Run(c.Method, c.Task, test);
    }

    /// <summary>One line per sampler of each run: exact match against K.</summary>
    public ProbeFigure Figure => new("Diffusion: accuracy against denoising steps", "accuracy_vs_steps.png", (path, series, _) =>
    {
        bool withSeed = series.Sum(s => s.Results.Count) > 1;
        Presentation.Figures.Lines(path, "Exact match against denoising steps K (held-out test set)", "denoising steps K", "exact match",
            [.. series.SelectMany(s => s.Results.SelectMany(r => ((DecodeStepsResult)r.Result).Points.GroupBy(p => p.Sampler).Select(g => new Presentation.Line(
                $"{s.Name}{(withSeed ? $" seed {r.Seed}" : "")}, {g.Key}", [.. g.Select(p => (double)p.Steps)], [.. g.Select(p => p.ExactMatch)]))))],
            [], markers: true);
    });

    public ProbeTable Describe(object result)
    {
        var r = (DecodeStepsResult)result;
        return new ProbeTable(["measure", "value"],
            [.. r.Points.Select(p => new[] { $"{p.Sampler}, K = {p.Steps}",
                $"exact {Presentation.Format.Proportion(p.ExactMatch, r.Examples)}, first decision {Presentation.Format.Percent(p.FirstDecisionAccuracy)}" })],
            $"{r.Examples:N0} test examples");
    }

    /// <summary>K = 1, 2, 5 and the target length, as far as they are distinct.</summary>
    public static int[] Budgets(ITask task) => new[] { 1, 2, 5, task.TargetLength }.Distinct().Order().ToArray();

    public static DecodeStepsResult Run(ITrainingMethod method, ITask task, TokenDataset data, int batchSize = 500)
    {
        if (method is not MaskedDiffusion diffusion)
            throw new UserError("the steps probe varies the number of denoising steps, so it needs a diffusion run");
        var points = new List<DecodeStepsPoint>();
        using (Evaluator.Inference(method.Model))
        {
            foreach (var sampler in Enum.GetValues<DiffusionSampler>())
                foreach (int steps in Budgets(task))
                {
                    long exact = 0, first = 0;
                    for (int start = 0; start < data.Count; start += batchSize)
                    {
                        using var scope = NewDisposeScope();
                        var batch = data.Slice(start, batchSize);
                        var right = diffusion.Sample(batch.Prefix, sampler, steps).Answer.eq(batch.Target); // (B, T)
                        exact += right.all(1).sum().item<long>();
                        first += right.select(1, task.FirstDecisionPosition).sum().item<long>();
                    }
                    double accuracy = (double)exact / data.Count;
                    var (low, high) = Statistics.Wilson95(accuracy, data.Count);
                    points.Add(new DecodeStepsPoint(Json.EnumName(sampler), steps, accuracy, low, high, (double)first / data.Count));
                }
        }
        return new DecodeStepsResult(data.Count, points);
    }
}
