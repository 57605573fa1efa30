using Foresight.Evaluation;

namespace Foresight.Tests;

public sealed class StatisticsTests
{
    [Fact]
    public void Mean_and_student_t_margin()
    {
        var (mean, margin) = Statistics.MeanWithMargin([0.4, 0.5, 0.6]);
        Assert.Equal(0.5, mean, 12);
        Assert.Equal(4.303 * 0.1 / Math.Sqrt(3), margin, 12); // sd 0.1, t(0.975, 2) = 4.303
        Assert.Equal((0.7, 0.0), Statistics.MeanWithMargin([0.7]));
    }

    [Fact]
    public void Wilson_interval_stays_inside_zero_and_one_and_never_has_zero_width()
    {
        var (low, high) = Statistics.Wilson95(1.0, 5000);
        Assert.Equal(1.0, high, 12);
        Assert.Equal(0.99923, low, 5); // 100% of 5,000 is not "± 0.0"
        (low, high) = Statistics.Wilson95(0.0, 5000);
        Assert.Equal(0.0, low, 12);
        Assert.Equal(0.00077, high, 5);
        (low, high) = Statistics.Wilson95(0.5, 100);
        Assert.Equal(0.40383, low, 5);
        Assert.Equal(0.59617, high, 5);
    }
}

public sealed class ConvergenceTests
{
    private static Runs.EvaluationLine Line(double exact, double loss, int step = 1, int examples = 1000) =>
        new(step, 0, 1000L * step, 1e-3, loss, 1, new EvalMetrics(examples, exact, exact, 0.5, [1, exact], 0.9, [1, exact]));

    /// <summary>Evaluations at steps 1, 2, ...</summary>
    private static List<Runs.EvaluationLine> Lines(params (double Exact, double Loss)[] points) =>
        [.. points.Select((p, i) => Line(p.Exact, p.Loss, step: i + 1))];

    [Fact]
    public void A_run_whose_test_exact_match_leaves_its_earlier_interval_is_still_learning()
    {
        // 30% of 1,000: Wilson upper end 32.9%; 35.3% lies above it.
        var rising = Runs.Convergence.Judge(Lines((0.1, 0.5), (0.30, 0.4), (0.31, 0.4), (0.353, 0.39)))!;
        Assert.False(rising.Converged);
        Assert.Contains("30.0% -> 35.3%", rising.Reason);
        Assert.True(Runs.Convergence.Judge(Lines((0.30, 0.4), (0.31, 0.4), (0.32, 0.4)))!.Converged); // inside the band
    }

    [Fact]
    public void The_window_is_the_last_third_of_training_so_a_slow_cosine_tail_does_not_hide_a_rise()
    {
        // The default compare's reverse on G(5,3,50), 2026-12-03: 19.5, 28.6, 31.5, 34.2 (1,000 graphs each), 32.0 (5,000).
        var points = new (double, double)[] { (0.12, 2.26), (0.13, 1.09), (0.15, 0.99), (0.175, 0.90), (0.184, 0.86), (0.195, 0.82), (0.286, 0.74), (0.315, 0.66), (0.342, 0.63) };
        var lines = Lines(points);
        lines.Add(Line(0.320, 0.62, step: 10, examples: 5000));
        var judged = Runs.Convergence.Judge(lines)!;
        Assert.False(judged.Converged); // from step 7 (28.6%, upper end 31.5%) to 32.0%
        Assert.Contains("28.6% -> 32.0%", judged.Reason);
        Assert.True(Runs.Convergence.Judge(lines[^3..])!.Converged); // its last three alone look flat
    }

    [Fact]
    public void A_falling_loss_is_still_learning_but_a_tiny_fall_near_zero_is_not()
    {
        Assert.False(Runs.Convergence.Judge(Lines((0.5, 0.50), (0.5, 0.45), (0.5, 0.40)))!.Converged); // -20%, -0.1
        Assert.True(Runs.Convergence.Judge(Lines((1, 0.0020), (1, 0.0015), (1, 0.0010)))!.Converged); // -50%, but by 0.001 only
        Assert.True(Runs.Convergence.Judge(Lines((0.5, 0.50), (0.5, 0.49), (0.5, 0.48)))!.Converged); // -4%
        Assert.Null(Runs.Convergence.Judge(Lines((0.5, 0.5), (0.5, 0.4)))); // too few to judge
    }

    [Fact]
    public void Fits_compares_both_sets_with_the_threshold()
    {
        Assert.Equal(Fit.TrainAndTest, Fits.Of(1.0, 0.95));
        Assert.Equal(Fit.TrainOnly, Fits.Of(0.99, 0.2));
        Assert.Equal(Fit.Neither, Fits.Of(0.5, 0.5));
        Assert.Equal("train & test", Fits.Describe(Fit.TrainAndTest));
    }
}
