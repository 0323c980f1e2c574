using System.Text.Json;
using Registry.Core.Access;
using Registry.Tests.Support;
using static Registry.Tests.Support.UploadRequests;

namespace Registry.Tests.Web.Api;

/// <summary>
/// Refusals whose advice leads somewhere carry the place as a <c>links</c> extension, built in Web;
/// the detail says what to do in the registry's words and then the REST call it means.
/// </summary>
public class ProblemLinksTests : AppTests
{
    /// <summary>Asserts the one link of a problem, that the domain's words come before it, and returns the link.</summary>
    private static string LinkOf(JsonElement problem, string name, string words, string method)
    {
        var link = problem.GetProperty("links").GetProperty(name).GetString()!;
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(words, detail);
        Assert.EndsWith($" See {method} {link}.", detail);
        Assert.DoesNotContain("/api/", detail[..detail.IndexOf(" See ", StringComparison.Ordinal)]);
        return link;
    }

    [Fact]
    public async Task An_unknown_model_links_to_the_list_of_models()
    {
        var problem = await (await Admin.GetAsync("/api/v1/models/nope")).ProblemAsync(404);
        var link = LinkOf(problem, "models", "list the models to see the names that exist", "GET");
        Assert.Equal("/api/v1/models", link);
        (await Admin.GetAsync(link)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task An_unknown_promotion_request_links_to_the_requests()
    {
        var problem = await (await Admin.GetAsync("/api/v1/promotions/999")).ProblemAsync(404);
        var link = LinkOf(problem, "promotions", "List the promotion requests to see which exist.", "GET");
        Assert.Equal("/api/v1/promotions", link);
        (await Admin.GetAsync(link)).EnsureSuccessStatusCode();
        // The same words from the decisions, which find the request in their own transaction.
        LinkOf(await (await Admin.DecideAsync(999, "approve")).ProblemAsync(404), "promotions", "There is no promotion request #999.", "GET");
    }

    [Fact]
    public async Task An_unknown_alias_and_a_missing_production_version_link_to_the_model()
    {
        await App.UploadValidatedAsync(Admin, "linked");
        var alias = await (await Admin.GetAsync("/api/v1/models/linked/aliases/champion")).ProblemAsync(404);
        var aliases = LinkOf(alias, "aliases", "List the model's aliases to see which exist.", "GET");
        Assert.Equal("/api/v1/models/linked/aliases", aliases);
        (await Admin.GetAsync(aliases)).EnsureSuccessStatusCode();
        LinkOf(await (await Admin.DeleteAsync("/api/v1/models/linked/aliases/champion")).ProblemAsync(404), "aliases", "has no alias 'champion'", "GET");

        var production = await (await Admin.GetAsync("/api/v1/models/linked/stages/production")).ProblemAsync(404);
        Assert.Equal("/api/v1/models/linked/versions",
            LinkOf(production, "versions", "Request a promotion of one of its versions to Production.", "GET"));
    }

    [Fact]
    public async Task Rejecting_your_own_request_links_to_cancelling_it()
    {
        var version = await App.UploadValidatedAsync(Admin, "own");
        Assert.Equal("Applied", (await Admin.RequestOkAsync("own", version, "Staging")).Status()); // no approvals needed
        var request = await Admin.RequestOkAsync("own", version, "Production");
        Assert.Equal("Open", request.Status());
        var problem = await (await Admin.DecideAsync(request.Id(), "reject", "no")).ProblemAsync(409);
        var cancel = LinkOf(problem, "cancel", "withdraw (cancel) it instead", "POST");
        Assert.Equal($"/api/v1/promotions/{request.Id()}/cancel", cancel);
        Assert.Equal("Cancelled", (await (await Admin.PostAsync(cancel, Json("{}"))).JsonAsync()).Status());
    }

    [Fact]
    public async Task A_key_for_a_person_links_to_where_people_create_their_own()
    {
        await App.CreatePersonAsync("alice", Role.Contributor, "a long password for alice");
        var problem = await (await Admin.PostAsync("/api/v1/users/alice/keys", Json("""{"name": "k", "scopes": ["read"]}"""))).ProblemAsync(409);
        Assert.Equal("/api/v1/keys", LinkOf(problem, "keys", "people create their own keys", "POST"));
    }

    [Fact]
    public async Task A_refusal_without_advice_has_no_links()
    {
        var problem = await (await Admin.PostAsync("/api/v1/models", Json("""{"name": ""}"""))).ProblemAsync(422);
        Assert.False(problem.TryGetProperty("links", out _));
    }
}
