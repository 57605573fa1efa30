using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019) computed as TorchSharp's, operation for operation, with its numbers held.
/// TorchSharp 0.107's own step turns β₁, β₂, ε, the decay factor and the step size into Scalars that nothing keeps
/// alive, for every parameter at every step; a garbage collection during the native call frees one under libtorch
/// (a run crashed this way in <c>mul_</c> after thousands of steps; see <see cref="HeldScalars"/>). This subclass keeps
/// TorchSharp's parameter groups, state and checkpoint format (save_state_dict records the type name, "AdamW"), so
/// checkpoints written by the older optimizer load and continue bit for bit.
/// </summary>
public sealed class AdamW : TorchSharp.Modules.AdamW
{
    private readonly Dictionary<ParamGroup, Betas> _betas = [];

    public AdamW(IEnumerable<ParamGroup> groups, double learningRate, double weightDecay)
        : base(groups, learningRate, 0.9, 0.999, 1e-8, weightDecay) { }

    /// <summary>
    /// One update of every parameter from its gradient. Callers use this rather than <see cref="step"/>: a call to
    /// <c>step</c> compiles to TorchSharp's Optimizer.step, whose other overrides let their numbers go, and the check
    /// that keeps loose scalars out of the library cannot tell which override a call reaches.
    /// </summary>
    public void Update() => _step<ParamGroup>(Update);

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(Update, closure);

    private void Update(ParamGroup group)
    {
        var options = group.Options;
        if (options.amsgrad == true || options.maximize == true) throw new NotSupportedException("AdamW here has neither amsgrad nor maximize");
        var betas = Held(group);
        double lr = options.LearningRate!.Value, weightDecay = options.weight_decay!.Value;
        using var decay = HeldScalars.Create(1 - lr * weightDecay);
        StepScalars? scalars = null;
        try
        {
            foreach (var parameter in group.Parameters)
            {
                var grad = parameter.grad;
                if (grad is null) continue;
                var state = (State)_state[parameter.Handle];
                state.step += 1;
                if (weightDecay != 0) parameter.mul_(decay); // a factor of exactly 1 without decay: skipping it changes no bit
                if (scalars?.Step != state.step)
                {
                    scalars?.Dispose();
                    scalars = new StepScalars(state.step, lr, options.beta1!.Value, options.beta2!.Value);
                }
                state.exp_avg.mul_(betas.Beta1).add_(grad, betas.OneMinusBeta1);
                state.exp_avg_sq.mul_(betas.Beta2).addcmul_(grad, grad, betas.OneMinusBeta2);
                var denominator = state.exp_avg_sq.sqrt().div_(scalars.SqrtBiasCorrection2).add_(betas.Epsilon, HeldScalars.One);
                parameter.addcdiv_(state.exp_avg, denominator, scalars.MinusStepSize);
            }
        }
        finally
        {
            scalars?.Dispose();
        }
    }

    private Betas Held(ParamGroup group)
    {
        var options = group.Options;
        var key = (options.beta1!.Value, options.beta2!.Value, options.eps!.Value);
        if (_betas.TryGetValue(group, out var held) && held.Values == key) return held;
        held?.Dispose();
        return _betas[group] = new Betas(key);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var held in _betas.Values) held.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>A group's constants, held while the optimizer lives.</summary>
    private sealed class Betas((double Beta1, double Beta2, double Epsilon) values) : IDisposable
    {
        public (double, double, double) Values { get; } = values;
        public Scalar Beta1 { get; } = HeldScalars.Create(values.Beta1);
        public Scalar OneMinusBeta1 { get; } = HeldScalars.Create(1 - values.Beta1);
        public Scalar Beta2 { get; } = HeldScalars.Create(values.Beta2);
        public Scalar OneMinusBeta2 { get; } = HeldScalars.Create(1 - values.Beta2);
        public Scalar Epsilon { get; } = HeldScalars.Create(values.Epsilon);

        public void Dispose()
        {
            foreach (var scalar in new[] { Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, Epsilon }) scalar.Dispose();
        }
    }

    /// <summary>The bias corrections of step t: √(1 - β₂ᵗ) and the step size -lr / (1 - β₁ᵗ).</summary>
    private sealed class StepScalars(long step, double lr, double beta1, double beta2) : IDisposable
    {
        public long Step { get; } = step;
        public Scalar SqrtBiasCorrection2 { get; } = HeldScalars.Create(Math.Sqrt(1 - Math.Pow(beta2, step)));
        public Scalar MinusStepSize { get; } = HeldScalars.Create(-(lr / (1 - Math.Pow(beta1, step))));

        public void Dispose()
        {
            SqrtBiasCorrection2.Dispose();
            MinusStepSize.Dispose();
        }
    }
}
