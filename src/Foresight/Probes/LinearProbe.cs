using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Foresight.Probes;

/// <summary>
/// Multinomial logistic regression on standardised features, fitted full-batch with Adam and a small
/// L2 penalty: the "linear probe" of interpretability work. Deterministic (zero initialisation).
/// </summary>
public sealed class LinearProbe : IDisposable
{
    private readonly Tensor _mean, _scale, _weight, _bias;

    private LinearProbe(Tensor mean, Tensor scale, Tensor weight, Tensor bias) =>
        (_mean, _scale, _weight, _bias) = (mean, scale, weight, bias);

    /// <summary>Fits features (N, C) float32 to labels (N,) int64 in 0..classes-1.</summary>
    public static LinearProbe Fit(Tensor features, Tensor labels, int classes, int steps = 300, double learningRate = 0.05, double l2 = 1e-3)
    {
        Tensor mean, scale;
        using (no_grad())
        {
            mean = features.mean([0]).detach();
            scale = features.std(dim: 0).AtLeast(1e-6).detach();
        }
        using var standardised = ((features - mean) / scale).detach();
        var weight = new TorchSharp.Modules.Parameter(zeros(features.shape[1], classes));
        var bias = new TorchSharp.Modules.Parameter(zeros(classes));
        using (var optimizer = new Training.AdamW([new Training.AdamW.ParamGroup([weight, bias], learningRate, 0.9, 0.999, 1e-8, 0)], learningRate, 0))
        using (enable_grad())
        {
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var logits = standardised.matmul(weight).Plus(bias); // (N, K)
                var loss = F.cross_entropy(logits, labels).Plus(weight.Squared().sum().Times(l2));
                loss.backward();
                optimizer.Update();
            }
        }
        return new LinearProbe(mean, scale, weight.detach(), bias.detach());
    }

    /// <summary>(N, C) -> (N, K).</summary>
    public Tensor Logits(Tensor features)
    {
        using var _ = no_grad();
        return ((features - _mean) / _scale).matmul(_weight).Plus(_bias);
    }

    /// <summary>Fraction of rows whose argmax over all classes is the label.</summary>
    public double Accuracy(Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        return Logits(features).argmax(-1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// Fraction of rows whose best class among that row's candidates (N, d) is the label: the
    /// question "which of these d options?", whose chance level is 1/d.
    /// </summary>
    public double CandidateAccuracy(Tensor features, Tensor labels, Tensor candidates)
    {
        using var scope = NewDisposeScope();
        var scores = Logits(features).gather(1, candidates); // (N, d)
        var chosen = candidates.gather(1, scores.argmax(1, keepdim: true)).squeeze(1); // (N,)
        return chosen.eq(labels).to_type(ScalarType.Float64).mean().item<double>();
    }

    public void Dispose()
    {
        _mean.Dispose();
        _scale.Dispose();
        _weight.Dispose();
        _bias.Dispose();
    }
}
