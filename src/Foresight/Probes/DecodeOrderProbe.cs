using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Probes;

/// <summary>When a diffusion sampler committed each target position, on average, and how often it was right.</summary>
/// <param name="MeanCommitStep">Per target position (task order): mean step, 0..K-1, at which it was unmasked.</param>
public sealed record DecodeOrderResult(int Examples, string Sampler, int Steps, double[] MeanCommitStep, double[] AccuracyByPosition);

/// <summary>
/// Does a diffusion model solve the path the way a planner would, from the goal end backwards?
/// Records the step at which the sampler commits each target position.
/// </summary>
public sealed class DecodeOrderProbe : IProbe
{
    public const string Name = "decode-order";

    string IProbe.Name => Name;
    public string Description => "diffusion: the mean step at which the sampler commits each target position";
    public bool TakesExamples => true;
    public Type ResultType => typeof(DecodeOrderResult);

    public string? WhyNot(ITrainingMethod method, ITask task, Runs.RunConfig config) =>
        method is MaskedDiffusion ? null : $"{config.Method} writes its answer in a fixed order";

    object IProbe.Run(ProbeContext c) => Run(c.Method, c.Task, ProbeData.Examples(c.Task, c.Sizes.CleverHansExamples, c.Config.Training.Seed));

    public string ReportSection(IReadOnlyList<ProbeSeries> series)
    {
        var orders = series.SelectMany(s => s.Results.Select(r => (s.Name, r.Seed, Order: (DecodeOrderResult)r.Result))).ToList();
        int length = orders.Max(o => o.Order.MeanCommitStep.Length);
        return "### Diffusion decode order: mean step at which each target position is committed (accuracy)\n\n" +
               Presentation.Format.MarkdownTable(["run", "sampler, K", .. Enumerable.Range(0, length).Select(i => i == 0 ? "position 0 (source)" : $"{i}")], 2,
                   orders.Select(o => (IReadOnlyList<string>)[$"{o.Name} seed {o.Seed}", $"{o.Order.Sampler}, {o.Order.Steps}",
                       .. o.Order.MeanCommitStep.Select((v, i) => $"{v:F2} ({Presentation.Format.Percent(o.Order.AccuracyByPosition[i])})")])) +
               "Step 0 is the first; a planner that works back from the goal commits the last positions first.\n";
    }

    public ProbeTable Describe(object result)
    {
        var r = (DecodeOrderResult)result;
        return new ProbeTable(["measure", "value"],
        [
            ["sampler, steps", $"{r.Sampler}, {r.Steps}"],
            ["mean commit step by position", string.Join("  ", r.MeanCommitStep.Select(v => $"{v:F2}"))],
            ["accuracy by position", Presentation.Format.Row(r.AccuracyByPosition)],
        ]);
    }

    public static DecodeOrderResult Run(ITrainingMethod method, ITask task, IReadOnlyList<Example> examples, int batchSize = 500)
    {
        if (method is not MaskedDiffusion diffusion)
            throw new UserError("the decode-order probe records when each answer token is unmasked, so it needs a diffusion run");
        var stepTotals = new double[task.TargetLength];
        var correct = new long[task.TargetLength];
        using (Evaluator.Inference(method.Model))
        using (var data = new TokenDataset(task, examples))
        {
            for (int start = 0; start < examples.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = data.Slice(start, batchSize);
                var (answer, commitStep) = diffusion.Sample(batch.Prefix);
                double[] sums = commitStep.to_type(ScalarType.Float64).sum(dim: 0).data<double>().ToArray();
                for (int j = 0; j < sums.Length; j++) stepTotals[j] += sums[j];
                Evaluator.Accumulate(correct, answer.eq(batch.Target));
            }
        }
        return new DecodeOrderResult(examples.Count, Json.EnumName(diffusion.Sampler), diffusion.Steps,
            stepTotals.Select(s => s / examples.Count).ToArray(), correct.Select(c => (double)c / examples.Count).ToArray());
    }
}
