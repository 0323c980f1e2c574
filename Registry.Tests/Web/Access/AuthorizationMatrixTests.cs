using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core.Access;
using Registry.Tests.Support;
using Xunit.Abstractions;

namespace Registry.Tests.Web.Access;

/// <summary>
/// Every API endpoint the app maps, against every kind of caller. The expectations are this test's
/// own table: an endpoint the table does not know, or one mapped without a policy, fails the test.
/// </summary>
public class AuthorizationMatrixTests(ITestOutputHelper output) : AppTests
{
    /// <summary>What each endpoint needs, written down independently of the code that maps it.</summary>
    private static readonly Dictionary<string, (Role Role, Scopes Scope)> Expected = new()
    {
        ["GET /api/v1/models/"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/models/"] = (Role.Contributor, Scopes.Write),
        ["GET /api/v1/models/{name}"] = (Role.Viewer, Scopes.Read),
        ["PATCH /api/v1/models/{name}"] = (Role.Contributor, Scopes.Write),
        ["POST /api/v1/models/{name}/versions/"] = (Role.Contributor, Scopes.Write),
        ["GET /api/v1/models/{name}/versions/"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/versions/{version:int}"] = (Role.Viewer, Scopes.Read),
        ["PATCH /api/v1/models/{name}/versions/{version:int}"] = (Role.Contributor, Scopes.Write),
        ["GET /api/v1/models/{name}/versions/{version:int}/artifact"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/versions/{version:int}/validation"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/models/{name}/versions/{version:int}/validation"] = (Role.Contributor, Scopes.Write),
        ["GET /api/v1/models/{name}/versions/{version:int}/metrics"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/models/{name}/versions/{version:int}/metrics"] = (Role.Contributor, Scopes.Write),
        ["GET /api/v1/models/{name}/versions/{version:int}/lineage"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/models/{name}/versions/{version:int}/lineage"] = (Role.Contributor, Scopes.Write),
        ["POST /api/v1/models/{name}/versions/{version:int}/promotions/"] = (Role.Contributor, Scopes.Promote),
        ["GET /api/v1/models/{name}/versions/{version:int}/promotions/preview"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/versions/{version:int}/signature-diff"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/promotions/"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/promotions/{id:long}"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/promotions/{id:long}/evidence"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/promotions/{id:long}/approve"] = (Role.Approver, Scopes.Promote),
        ["POST /api/v1/promotions/{id:long}/reject"] = (Role.Approver, Scopes.Promote),
        ["POST /api/v1/promotions/{id:long}/cancel"] = (Role.Contributor, Scopes.Promote),
        ["GET /api/v1/models/{name}/stages/production"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/aliases"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/aliases/{alias}"] = (Role.Viewer, Scopes.Read),
        ["PUT /api/v1/models/{name}/aliases/{alias}"] = (Role.Approver, Scopes.Promote),
        ["DELETE /api/v1/models/{name}/aliases/{alias}"] = (Role.Approver, Scopes.Promote),
        ["GET /api/v1/models/{name}/history"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/policy"] = (Role.Viewer, Scopes.Read),
        ["PUT /api/v1/models/{name}/policy"] = (Role.Approver, Scopes.Promote),
        ["GET /api/v1/compare/"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/compare/csv"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/models/{name}/metrics/{key}/series"] = (Role.Viewer, Scopes.Read),
        ["GET /api/v1/users/"] = (Role.Admin, Scopes.Read),
        ["POST /api/v1/users/"] = (Role.Admin, Scopes.Write),
        ["PATCH /api/v1/users/{name}"] = (Role.Admin, Scopes.Write),
        ["GET /api/v1/users/{name}/keys"] = (Role.Admin, Scopes.Read),
        ["POST /api/v1/users/{name}/keys"] = (Role.Admin, Scopes.Write),
        ["GET /api/v1/keys/"] = (Role.Viewer, Scopes.Read),
        ["POST /api/v1/keys/"] = (Role.Viewer, Scopes.Write),
        ["DELETE /api/v1/keys/{id:long}"] = (Role.Viewer, Scopes.Write),
        ["GET /api/v1/audit/"] = (Role.Admin, Scopes.Read),
        ["GET /api/v1/audit/verify"] = (Role.Admin, Scopes.Read),
        ["GET /api/v1/settings/"] = (Role.Admin, Scopes.Read),
        ["PATCH /api/v1/settings/"] = (Role.Admin, Scopes.Write),
    };

    private sealed record Caller(string Name, HttpClient Client, Role? Role, Scopes Scopes, bool Valid);

    protected override async Task ArrangeAsync() => (await Admin.UploadAsync("m", OnnxModels.Identity())).EnsureSuccessStatusCode();

    private static List<(string Method, string Pattern, EndpointMetadataCollection Metadata)> ApiEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (m, e.RoutePattern.RawText!, e.Metadata)))
            .ToList();

    [Fact]
    public void Every_api_endpoint_has_a_policy_and_a_line_in_this_matrix()
    {
        App.CreateClient();
        var endpoints = ApiEndpoints(App.Services);
        Assert.NotEmpty(endpoints);
        var problems = new List<string>();
        foreach (var (method, pattern, metadata) in endpoints)
        {
            var key = $"{method} {pattern}";
            var policies = metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (metadata.GetMetadata<IAllowAnonymous>() is not null || policies.Count == 0)
                problems.Add($"{key} has no authorization policy");
            if (!Expected.ContainsKey(key))
                problems.Add($"{key} is not in the authorization matrix: add what it needs");
        }
        foreach (var missing in Expected.Keys.Except(endpoints.Select(e => $"{e.Method} {e.Pattern}")))
            problems.Add($"{missing} is in the matrix but no longer mapped");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Every_endpoint_answers_each_kind_of_caller_as_expected()
    {
        var callers = await CallersAsync();
        var failures = new List<string>();
        var table = new StringBuilder();
        foreach (var (method, pattern, _) in ApiEndpoints(App.Services).OrderBy(e => e.Pattern).ThenBy(e => e.Method))
        {
            var (role, scope) = Expected[$"{method} {pattern}"];
            var path = pattern.Replace("{name}", "m").Replace("{version:int}", "1").Replace("{id:long}", "999999").Replace("{alias}", "champion").Replace("{key}", "auc");
            if (pattern.StartsWith("/api/v1/users/{name}", StringComparison.Ordinal)) path = path.Replace("/users/m", "/users/nobody");
            table.Append($"{method,-6} {pattern,-62}");
            foreach (var caller in callers)
            {
                var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PATCH" or "PUT") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                var status = (int)(await caller.Client.SendAsync(request)).StatusCode;
                var allowed = caller.Valid && caller.Role >= role && caller.Scopes.HasFlag(scope);
                var expected = !caller.Valid ? "401" : allowed ? "not 401/403" : "403";
                var ok = expected == "not 401/403" ? status is not (401 or 403) : status.ToString(System.Globalization.CultureInfo.InvariantCulture) == expected;
                if (!ok) failures.Add($"{method} {pattern} as {caller.Name}: {status}, expected {expected}");
                table.Append($" {status}");
            }
            table.AppendLine();
        }
        output.WriteLine("callers: " + string.Join(", ", callers.Select(c => c.Name)));
        output.WriteLine(table.ToString());
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Every_page_declares_who_may_see_it()
    {
        var pages = typeof(Program).Assembly.GetTypes().Where(t => t.GetCustomAttributes<RouteAttribute>().Any()).ToList();
        Assert.NotEmpty(pages);
        var undeclared = pages.Where(p => p.GetCustomAttribute<AuthorizeAttribute>() is null && p.GetCustomAttribute<AllowAnonymousAttribute>() is null)
            .Select(p => p.Name).ToList();
        Assert.True(undeclared.Count == 0, "pages without [Authorize] or [AllowAnonymous]: " + string.Join(", ", undeclared));
        var anonymous = pages.Where(p => p.GetCustomAttribute<AllowAnonymousAttribute>() is not null).Select(p => p.Name).Order().ToList();
        Assert.Equal(["AccessDenied", "Login", "NotFound"], anonymous);
    }

    private async Task<List<Caller>> CallersAsync()
    {
        var callers = new List<Caller> { new("anonymous", App.AnonymousClient(), null, Scopes.None, Valid: false) };
        foreach (var role in Enum.GetValues<Role>())
            callers.Add(new(role.ToString().ToLowerInvariant(), await App.ClientAsAsync(role), role, RoleScopes.Allowed(role), true));
        foreach (var scope in new[] { Scopes.Read, Scopes.Write, Scopes.Promote })
            callers.Add(new($"admin-key-{scope.ToString().ToLowerInvariant()}", await App.ClientAsAsync(Role.Admin, scope), Role.Admin, scope, true));

        // A revoked key and an expired one: both must be refused as not signed in.
        await App.EnsureServiceAccountAsync("keyholder", Role.Admin);
        var revoked = await App.CreateKeyAsync("keyholder", Scopes.All, "revoked");
        var keys = await App.CreateClient().GetAsync("/api/v1/users/keyholder/keys");
        var id = (await keys.JsonAsync()).EnumerateArray().Single(k => k.GetProperty("name").GetString() == "revoked").GetProperty("id").GetInt64();
        (await App.CreateClient().DeleteAsync($"/api/v1/keys/{id}")).EnsureSuccessStatusCode();
        var expired = await App.CreateKeyAsync("keyholder", Scopes.All, "expired", DateTimeOffset.UtcNow.AddSeconds(1));
        await Task.Delay(1500);
        callers.Add(new("revoked-key", WithKey(revoked), Role.Admin, Scopes.All, Valid: false));
        callers.Add(new("expired-key", WithKey(expired), Role.Admin, Scopes.All, Valid: false));
        return callers;
    }

    private HttpClient WithKey(string key)
    {
        var client = App.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
