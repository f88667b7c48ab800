// Running a program as a child process from a test: its standard input from a string, its
// output and errors captured in files of a scratch directory, its exit status or the signal
// that ended it. POSIX only.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace herald::test {

/// How a finished child ended and what it wrote.
struct ProcessResult {
    int exit_code = -1;  ///< -1 when a signal ended it
    int signal = 0;
    std::string out;
    std::string err;
};

/// A running child. The destructor kills (SIGKILL) and reaps it if it still runs.
class ChildProcess {
  public:
    /// How the child's standard input ends.
    enum class Input {
        file,       ///< `input`, then end of file
        held_open,  ///< `input` through a pipe that stays open: the child waits for more
    };

    /// Starts `argv` with `input` on its standard input; `dir` holds the capture files.
    /// `held_open` input must fit in a pipe's buffer (64 KiB on Linux).
    ChildProcess(const std::vector<std::string>& argv, const std::string& input,
                 const std::filesystem::path& dir, Input mode = Input::file)
        : in_(dir / "stdin"), out_(dir / "stdout"), err_(dir / "stderr") {
        std::ofstream(in_, std::ios::trunc) << input;
        int pipe_fds[2] = {-1, -1};
        if (mode == Input::held_open && ::pipe(pipe_fds) != 0)
            throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            if (mode == Input::held_open) {
                ::dup2(pipe_fds[0], STDIN_FILENO);
                ::close(pipe_fds[0]);
                ::close(pipe_fds[1]);
            }
            exec_child(argv, mode == Input::file);
        }
        if (mode == Input::held_open) {
            ::close(pipe_fds[0]);
            stdin_pipe_ = pipe_fds[1];
            if (::write(stdin_pipe_, input.data(), input.size()) !=
                static_cast<ssize_t>(input.size()))
                throw std::runtime_error("writing the child's input failed");
        }
    }
    ~ChildProcess() {
        if (stdin_pipe_ >= 0)
            ::close(stdin_pipe_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void kill_hard() { ::kill(pid_, SIGKILL); }

    /// Waits for the child to end and returns what it did.
    ProcessResult wait() {
        if (stdin_pipe_ >= 0)
            ::close(std::exchange(stdin_pipe_, -1));
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        ProcessResult r;
        if (WIFEXITED(status))
            r.exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            r.signal = WTERMSIG(status);
        r.out = slurp(out_);
        r.err = slurp(err_);
        return r;
    }

  private:
    static std::string slurp(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    [[noreturn]] void exec_child(const std::vector<std::string>& argv, bool input_from_file) {
        if (input_from_file)
            redirect(in_, O_RDONLY, STDIN_FILENO);
        redirect(out_, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
        redirect(err_, O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO);
        std::vector<char*> args;
        for (const std::string& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    static void redirect(const std::filesystem::path& p, int flags, int fd) {
        const int opened = ::open(p.c_str(), flags, 0600);
        if (opened < 0)
            ::_exit(126);
        ::dup2(opened, fd);
        ::close(opened);
    }

    std::filesystem::path in_, out_, err_;
    pid_t pid_ = -1;
    int stdin_pipe_ = -1;
};

/// Runs `argv` to completion.
inline ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                                 const std::filesystem::path& dir) {
    ChildProcess child(argv, input, dir);
    return child.wait();
}

}  // namespace herald::test
