using Foresight.Methods;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Search;

/// <summary>
/// Best of k: k answers sampled at a temperature, and the first one the verifier accepts (the first
/// sample when none is). Its accuracy is pass@k with a perfect verifier choosing; the fraction of
/// accepted samples estimates pass@1 at that temperature.
/// </summary>
public sealed class VerifiedSampling(int samples, double temperature, long seed) : ISearchDecoder
{
    public int Samples { get; } = samples > 0 ? samples : throw new UserError($"the sample count must be at least 1, got {samples}");
    public double Temperature { get; } = temperature > 0 ? temperature : throw new UserError($"--temperature must be positive for sampling, got {temperature}");

    public string Name => $"sample{Samples}";

    public IReadOnlyList<SearchResult> Decode(IStepwiseDecoder model, IVerifiableTask task, IReadOnlyList<Example> examples, Tensor prefix)
    {
        using var generator = new Generator((ulong)seed); // fixed, so the same run decodes the same way every time
        int length = model.WritingOrder.Count;
        var written = StepwiseWriting.Sample(model, prefix.repeat_interleave(Samples, 0), Temperature, generator); // (B k, T), an instance's samples adjacent

        var answers = StepwiseWriting.ToAnswers(written, model.WritingOrder);
        var results = new SearchResult[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            var candidates = answers.AsSpan(i * Samples, Samples).ToArray();
            var accepted = candidates.Where(a => task.Accepts(examples[i], a)).ToList();
            results[i] = new SearchResult(accepted.FirstOrDefault() ?? candidates[0], Samples * length, Samples * length, accepted.Count);
        }
        return results;
    }
}
