using System.Globalization;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Search;

/// <summary>One instance's answer (task order; <see cref="IVerifiableTask.Unwritten"/> where a failed search wrote nothing) and its cost.</summary>
public sealed record SearchResult(int[] Answer, int TokensWritten, int ModelCalls, int SamplesAccepted = 0);

/// <summary>A way to decode an autoregressive model for one batch of instances, with the task's verifier at hand.</summary>
public interface ISearchDecoder
{
    /// <summary>The name --decode takes and the eval file carries: greedy, sample16, backtrack.</summary>
    string Name { get; }

    IReadOnlyList<SearchResult> Decode(IStepwiseDecoder model, IVerifiableTask task, IReadOnlyList<Example> examples, Tensor prefix);
}

/// <summary>
/// What a decoder reached on a data set and what it cost. Tokens written count every token put into an
/// answer, including the ones a search took back or a sampler threw away; model calls count one per
/// token whose next-token distribution was computed (a forward pass per sequence).
/// </summary>
public sealed record SearchMetrics(
    string Decode,
    int Examples,
    double ExactMatch,
    double VerifierAccepted,
    double TokensPerInstance,
    double ModelCallsPerInstance,
    double? SampleAcceptance)
{
    public double ExactMatchLow95 => Statistics.Wilson95(ExactMatch, Examples).Low;
    public double ExactMatchHigh95 => Statistics.Wilson95(ExactMatch, Examples).High;
}

public static class SearchDecoding
{
    /// <summary>Parses --decode: greedy, sample:K (best of K samples the verifier picks from) or backtrack.</summary>
    public static ISearchDecoder Parse(string text, double temperature = 1.0, int budget = Backtracking.DefaultBudget, long seed = 0)
    {
        if (text == "greedy") return new GreedyDecoder();
        if (text == "backtrack") return new Backtracking(budget);
        if (text.StartsWith("sample:", StringComparison.Ordinal))
        {
            if (!int.TryParse(text["sample:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1)
                throw new UserError($"--decode {text}: the sample count must be a positive integer, as in sample:16");
            return new VerifiedSampling(k, temperature, seed);
        }
        throw new UserError($"--decode must be greedy, sample:K or backtrack, got '{text}'");
    }

    /// <summary>Decodes every example of <paramref name="data"/> (up to <paramref name="limit"/>) and scores the answers against the targets.</summary>
    public static SearchMetrics Evaluate(ITrainingMethod method, ITask task, TokenDataset data, ISearchDecoder decoder, int limit = int.MaxValue, int batchSize = 500)
    {
        method = IFineTuning.Underlying(method); // a grpo run decodes with the model it fine-tuned
        if (method is not IStepwiseDecoder model)
            throw new UserError($"--decode {decoder.Name} needs a run of a method that writes one token at a time ({MethodRegistry.Having<IStepwiseDecoder>()}, or {MethodRegistry.Having<IFineTuning>()} from one)");
        if (model.VariableOrder is { } why) throw new UserError($"--decode {decoder.Name}: {why}");
        if (task is not IVerifiableTask verifiable)
            throw new UserError($"--decode {decoder.Name} needs a task with a verifier; {task.Description} has none");

        int count = Math.Min(limit, data.Count);
        long exact = 0, accepted = 0, tokens = 0, calls = 0, samplesAccepted = 0;
        using (Evaluator.Inference(method.Model))
        {
            for (int start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = data.Slice(start, Math.Min(batchSize, count - start));
                var examples = batch.Examples();
                var results = decoder.Decode(model, verifiable, examples, batch.Prefix);
                for (int i = 0; i < results.Count; i++)
                {
                    if (results[i].Answer.SequenceEqual(examples[i].Target)) exact++;
                    if (verifiable.Accepts(examples[i], results[i].Answer)) accepted++;
                    tokens += results[i].TokensWritten;
                    calls += results[i].ModelCalls;
                    samplesAccepted += results[i].SamplesAccepted;
                }
            }
        }
        double? sampleAcceptance = decoder is VerifiedSampling sampling ? (double)samplesAccepted / ((long)count * sampling.Samples) : null;
        return new SearchMetrics(decoder.Name, count, (double)exact / count, (double)accepted / count,
            (double)tokens / count, (double)calls / count, sampleAcceptance);
    }
}

/// <summary>The method's own greedy decoding, read through the same interface: the baseline every search is measured against.</summary>
public sealed class GreedyDecoder : ISearchDecoder
{
    public string Name => "greedy";

    public IReadOnlyList<SearchResult> Decode(IStepwiseDecoder model, IVerifiableTask task, IReadOnlyList<Example> examples, Tensor prefix)
    {
        int length = model.WritingOrder.Count;
        var written = StepwiseWriting.Write(model, prefix, logits => logits.argmax(-1, keepdim: true));
        return [.. StepwiseWriting.ToAnswers(written, model.WritingOrder).Select(a => new SearchResult(a, length, length))];
    }
}
