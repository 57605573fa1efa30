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

public sealed class FitsTests
{
    [Fact]
    public void Fits_compares_both_sets_with_the_threshold()
    {
        Assert.Equal(Fit.TrainAndTest, Fits.Of(1.0, 0.95));
        Assert.Equal(Fit.TrainOnly, Fits.Of(0.99, 0.2));
        Assert.Equal(Fit.Neither, Fits.Of(0.5, 0.5));
        Assert.Equal("train & test", Fits.Describe(Fit.TrainAndTest));
    }
}
