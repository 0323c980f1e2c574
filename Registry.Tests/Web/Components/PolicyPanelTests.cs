using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Registry.Core.Persistence;
using Registry.Tests.Support;
using Registry.Web.Components.Shared;

namespace Registry.Tests.Web.Components;

public class PolicyPanelTests : ComponentTestBase
{
    [Fact]
    public async Task An_invalid_policy_is_refused_with_the_reasons_and_a_valid_one_is_saved_and_shown()
    {
        await CreateModelAsync("governed", "a model with a policy");
        Context.Render<MudPopoverProvider>();
        var panel = Context.Render<PolicyPanel>(p => p.Add(x => x.Model, "governed"));
        panel.WaitForAssertion(() => Assert.Contains("The registry's default policy", panel.Find("[data-testid=policy-panel]").TextContent));
        Assert.Contains("staging 0, production 1, archived 0", panel.Find("[data-testid=policy-rules]").TextContent);

        panel.Find("[data-testid=edit-policy]").Click();
        panel.Find("[data-testid=add-rule]").Click(); // a rule without its metric
        panel.Find("[data-testid=save-policy]").Click();
        panel.WaitForAssertion(() => Assert.Contains("metricRules[0].metric: A metric rule names its metric",
            panel.Find("[data-testid=policy-errors]").TextContent));
        var factory = Context.Services.GetRequiredService<IDbContextFactory<RegistryDbContext>>();
        await using (var db = await factory.CreateDbContextAsync())
            Assert.Equal(0, await db.ModelPolicies.CountAsync());

        panel.Find("input[data-testid=rule-metric]").Change("auc");
        panel.Find("input[data-testid=approvals-production]").Change("2");
        panel.Find("[data-testid=save-policy]").Click();
        panel.WaitForAssertion(() => Assert.Contains("staging 0, production 2, archived 0", panel.Find("[data-testid=policy-rules]").TextContent));
        Assert.Contains("Set by tester", panel.Find("[data-testid=policy-panel]").TextContent);
        Assert.Contains("Metric auc: not worse than production's (higher is better, tolerance 0).", panel.Find("[data-testid=policy-rules]").TextContent);
        await using (var db = await factory.CreateDbContextAsync())
            Assert.Equal("tester", await db.AuditEvents.Where(e => e.Action == "policy.updated").Select(e => e.Actor).SingleAsync());
    }
}
