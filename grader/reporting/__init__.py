"""What learners, instructors and tools read: learner pages, the cohort report, exports."""
