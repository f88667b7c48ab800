// herald_snippets only has to build: its examples are compiled and linked, not run.
int main() {
    return 0;
}
