using Microsoft.AspNetCore.Identity;
using Registry.Core.Access;
using Registry.Data;

namespace Registry.Web.Security;

/// <summary>
/// The first run on an empty database creates <c>admin</c>. Its one-time password is printed once
/// and written to <c>data/initial-admin-password</c> (readable by the owner only); the first sign-in
/// must replace it. <c>Registry:Admin:InitialPassword</c> sets the password instead (automated setups).
/// </summary>
public static class AdminAccount
{
    public const string UserName = "admin";

    public static string InitialPasswordFile(DataPaths paths) => Path.Combine(paths.Root, "initial-admin-password");

    public static async Task EnsureAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<RegistryUser>>();
        if (users.Users.Any()) return;

        var configured = scope.ServiceProvider.GetRequiredService<IConfiguration>()["Registry:Admin:InitialPassword"];
        var password = string.IsNullOrEmpty(configured) ? UserService.NewPassword() : configured;
        var admin = new RegistryUser
        {
            UserName = UserName,
            Role = Role.Admin,
            MustChangePassword = string.IsNullOrEmpty(configured),
            CreatedAt = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow(),
        };
        var created = await users.CreateAsync(admin, password);
        if (!created.Succeeded)
            throw new InvalidOperationException("Could not create the first admin: " + string.Join(" ", created.Errors.Select(e => e.Description))
                + (string.IsNullOrEmpty(configured) ? "" : " (check Registry:Admin:InitialPassword: at least 12 characters)"));

        if (!string.IsNullOrEmpty(configured)) return; // the operator chose it and knows it; it is printed nowhere
        var file = InitialPasswordFile(scope.ServiceProvider.GetRequiredService<DataPaths>());
        // Created readable by the owner only, never readable by others for a moment; a file left by an
        // earlier first run that did not finish is replaced.
        File.Delete(file);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var writer = new StreamWriter(file, options)) await writer.WriteAsync(password + Environment.NewLine);
        Console.WriteLine();
        Console.WriteLine("  First run: created the user 'admin' with this one-time password:");
        Console.WriteLine();
        Console.WriteLine($"      {password}");
        Console.WriteLine();
        Console.WriteLine($"  It is also in {file} (readable only by you). Sign in with it; you will");
        Console.WriteLine("  choose your own password at once, and the file is then deleted.");
    }
}
