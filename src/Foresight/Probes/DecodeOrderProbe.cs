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
public static class DecodeOrderProbe
{
    public const string Name = "decode-order";

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
